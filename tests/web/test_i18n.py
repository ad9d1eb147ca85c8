"""The interface in English, French and Spanish, from catalog files."""

from __future__ import annotations

import subprocess
import sys

from fastapi.testclient import TestClient

from tests.conftest import ROOT
from web.app import create_app
from web.i18n import catalog, parse_po


def test_every_interface_string_has_a_french_and_spanish_translation() -> None:
    done = subprocess.run([sys.executable, "scripts/extract_messages.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "", done.stdout[:2000]
    assert catalog("fr")["Search"] == "Rechercher"


def test_po_parser_handles_multiline_fuzzy_and_escapes() -> None:
    text = ('msgid ""\nmsgstr "Content-Type: text/plain\\n"\n\n'
            'msgid "Log in"\nmsgstr "Se connecter"\n\n'
            '#, fuzzy\nmsgid "Register"\nmsgstr "Inscription?"\n\n'
            'msgid "Two "\n"lines"\nmsgstr "Deux "\n"lignes \\"ok\\""\n')
    assert parse_po(text) == {"Log in": "Se connecter", "Two lines": 'Deux lignes "ok"'}


def test_language_from_browser_then_from_the_switch(library_hub) -> None:
    client = TestClient(create_app(library_hub))
    page = client.get("/practices", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in page.text and "Pratiques" in page.text and "Efficace" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    switched = client.post("/language", data={"lang": "es", "next": "/practices", "csrf_token": token},
                           follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/practices"
    page = client.get("/practices", headers={"Accept-Language": "fr"})
    assert '<html lang="es">' in page.text and "Prácticas" in page.text
    # Profiles speak the reader's language: the Spanish summary of an English profile.
    assert "Sistemas de cámaras en espacios públicos y semipúblicos" in page.text
    assert "Camera systems in public and semi-public places" not in page.text
    assert '<html lang="en">' in TestClient(create_app(library_hub)).get("/").text


def test_openapi_documents_every_community_action(library_hub) -> None:
    spec = TestClient(create_app(library_hub)).get("/openapi.json").json()
    paths = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    for expected in [("POST", "/api/auth/token"), ("GET", "/api/me"), ("POST", "/api/users"),
                     ("PUT", "/api/users/{username}/role"), ("POST", "/api/submissions"),
                     ("PUT", "/api/submissions/{sub_id}"), ("POST", "/api/submissions/{sub_id}/withdraw"),
                     ("GET", "/api/moderation/queue"), ("POST", "/api/moderation/{sub_id}/approve"),
                     ("POST", "/api/moderation/{sub_id}/reject"), ("GET", "/api/moderation/log"),
                     ("POST", "/api/briefs"), ("PATCH", "/api/briefs/{brief_id}"),
                     ("POST", "/api/briefs/{brief_id}/items"), ("PUT", "/api/briefs/{brief_id}/order"),
                     ("POST", "/api/briefs/{brief_id}/share"), ("GET", "/api/briefs/{brief_id}/export"),
                     ("GET", "/api/shared/{token}")]:
        assert expected in paths, expected


def test_practice_vocabulary_in_the_reader_language(library_hub) -> None:
    """Themes, populations and settings are shown in the reader's language; the filters keep the
    profiles' own values, so a link works whatever the language."""
    client = TestClient(create_app(library_hub))
    french = client.get("/practices", headers={"accept-language": "fr"}).text
    assert "<span>espace public</span>" in french and "<span>public space</span>" not in french
    assert 'href="/practices?theme=public%20space"' in french and ">espace public</a>" in french
    spanish = client.get("/advise", headers={"accept-language": "es"}).text
    assert '<option value="public transport" >transporte público</option>' in spanish.replace("  ", " ")
    english = client.get("/practices", headers={"accept-language": "en"}).text
    assert "<span>public space</span>" in english
    page = client.get("/practices/womens-transit-safety", headers={"accept-language": "es"}).text
    assert "movilidad, mujeres, espacio público" in page
