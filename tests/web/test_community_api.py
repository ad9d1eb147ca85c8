"""The JSON API covers what the pages do: a script shares, moderates and exports a brief."""

from __future__ import annotations

import io

import httpx
from pypdf import PdfReader

from tests.conftest import PASSWORDS
from tests.pdfs import text_pdf


def test_a_script_does_the_whole_round_trip(live_server, tmp_path) -> None:
    def token(name: str) -> str:
        r = httpx.post(f"{live_server}/api/auth/token", json={"username": name, "password": PASSWORDS[name]})
        assert r.status_code == 200, r.text
        return r.json()["token"]

    member = httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {token('maya')}"}, timeout=60)
    moderator = httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {token('mona')}"}, timeout=60)
    assert member.get("/api/me").json()["role"] == "member"

    report = text_pdf(tmp_path / "informe.pdf", [
        "Informe de Medellín sobre la prevención situacional.",
        "En la segunda página: los senderos del parque biblioteca se iluminaron tras los recorridos nocturnos "
        "con las lideresas del barrio Santo Domingo."])
    sub = member.post("/api/submissions", data={
        "title": "Senderos iluminados en Santo Domingo", "city": "Medellín", "country": "Colombia",
        "language": "es", "summary": "Las lideresas recorrieron de noche los senderos del parque biblioteca.",
        "themes": "mujeres, espacio público"}, files={"file": ("informe.pdf", report.read_bytes(), "application/pdf")})
    assert sub.status_code == 201, sub.text
    sid = sub.json()["id"]
    queue = moderator.get("/api/moderation/queue").json()
    assert [s["id"] for s in queue if s["id"] == sid] and queue[-1]["preview"][1]["page"] == 2
    approved = moderator.post(f"/api/moderation/{sid}/approve").json()
    assert approved["status"] == "approved" and approved["doc_id"]
    log = moderator.get("/api/moderation/log").json()
    assert {"submitted", "approved"} <= {d["action"] for d in log if d["submission_id"] == sid}

    hits = member.get("/api/search", params={"q": "senderos del parque biblioteca iluminados"}).json()
    top = next(h for h in hits if h["doc_id"] == approved["doc_id"])
    # The report's second page answers, cited with its page (beside the summary, which names the
    # same paths and scores about the same).
    cited = next(p for p in top["passages"] if p["page"] == 2)

    brief = member.post("/api/briefs", json={"title": "Senderos", "city": "Medellín"}).json()
    member.post(f"/api/briefs/{brief['id']}/items", json={"kind": "passage", "chunk_id": cited["chunk_id"],
                                                          "note": "Ejemplo local."})
    member.post(f"/api/briefs/{brief['id']}/items", json={"kind": "note", "heading": "Contexto", "text": "Tres parques."})
    items = member.get(f"/api/briefs/{brief['id']}").json()["items"]
    reordered = member.put(f"/api/briefs/{brief['id']}/order", json={"item_ids": [items[1]["id"], items[0]["id"]]})
    assert [i["kind"] for i in reordered.json()["items"]] == ["note", "passage"]
    md = member.get(f"/api/briefs/{brief['id']}/export", params={"format": "md"})
    assert "1. Senderos iluminados en Santo Domingo, p. 2" in md.text
    pdf = member.get(f"/api/briefs/{brief['id']}/export", params={"format": "pdf"})
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Senderos iluminados en Santo Domingo, p. 2" in text

    withdrawn = member.post(f"/api/submissions/{sid}/withdraw").json()
    moderator.post(f"/api/moderation/{withdrawn['id']}/approve")
    hits = member.get("/api/search", params={"q": "senderos del parque biblioteca iluminados"}).json()
    assert approved["doc_id"] not in {h["doc_id"] for h in hits}
    assert member.get("/api/health").json()["consistent"] is True
