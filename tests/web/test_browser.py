"""The hub as people use it: headless Chromium against the app served over real HTTP.

Screenshots of the main pages land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.conftest import PASSWORDS
from tests.pdfs import text_pdf

def click_and_load(driver, find) -> None:  # type: ignore[no-untyped-def]
    """Click what ``find()`` returns, which loads a new page, and wait until the old page is gone
    and the new one complete: without this, the next lookup can land on the old page, or a
    navigation can cut the form's POST short. Chromium sometimes hands out a node of a document
    that is being replaced ("does not belong to the document"): look it up again then."""
    for attempt in range(4):
        old = driver.find_element(By.TAG_NAME, "html")
        try:
            find().click()
            break
        except WebDriverException:
            if attempt == 3:
                raise
            time.sleep(0.3)
    WebDriverWait(driver, 30).until(lambda d: _gone(old))
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _gone(element) -> bool:  # type: ignore[no-untyped-def]
    """Stale, in either of the two ways Chromium reports it."""
    try:
        element.is_enabled()
        return False
    except WebDriverException:  # StaleElementReference, or "does not belong to the document"
        return True


def login(driver, base: str, name: str) -> None:  # type: ignore[no-untyped-def]
    driver.delete_all_cookies()
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS.get(name, "a-new-password-9"))
    click_and_load(driver, lambda: driver.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]"))
    assert driver.find_element(By.CSS_SELECTOR, ".account .me").text, "not logged in"


def cookies_of(driver) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c["name"]: c["value"] for c in driver.get_cookies()}


def search(driver, base: str, q: str) -> None:  # type: ignore[no-untyped-def]
    driver.get(base + "/")
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(q)
    click_and_load(driver, lambda: driver.find_element(By.CSS_SELECTOR, "form.search button[type=submit]"))


def test_advisor_searches_opens_a_practice_builds_and_exports_a_brief(browser, live_server, screenshots) -> None:
    base = live_server
    browser.get(base + "/")
    screenshots(browser, "01-home")
    search(browser, base, "exploratory walk women safety")
    assert browser.find_elements(By.CSS_SELECTOR, "li.hit"), "no search results"
    assert "Log in" in browser.find_element(By.CSS_SELECTOR, ".account").text
    assert not browser.find_elements(By.CSS_SELECTOR, "form.add-brief"), "anonymous visitors cannot collect"
    screenshots(browser, "02-search")
    # The practices that fit the question are listed beside the documents, and open their profile.
    fitting = browser.find_element(By.CSS_SELECTOR, "aside.fitting li a")
    assert "/practices/" in fitting.get_attribute("href")
    assert all("/documents/" in a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "li.hit a.title"))
    click_and_load(browser, lambda: fitting)
    assert browser.find_element(By.CSS_SELECTOR, "article.practice h1").text

    login(browser, base, "amir")
    browser.get(base + "/advise")
    browser.find_element(By.ID, "q").send_keys("how do we make women feel safer at bus stops at night?")
    click_and_load(browser, lambda: browser.find_element(By.CSS_SELECTOR, "form.search button[type=submit]"))
    first = browser.find_element(By.CSS_SELECTOR, "section.recommendations article.card")
    practice_name = first.find_element(By.CSS_SELECTOR, "h3 a").text
    assert first.find_element(By.CSS_SELECTOR, ".rating-line .meaning").text  # the rating's meaning
    screenshots(browser, "03-advise")
    click_and_load(browser, lambda: first.find_element(By.CSS_SELECTOR, "form.add-brief button"))  # "New brief" is preselected
    assert "Added to" in browser.find_element(By.CSS_SELECTOR, ".flash").text

    # A passage from search goes into the same brief (the last one used is preselected).
    search(browser, base, "lighting at bus stops")
    hit = browser.find_element(By.CSS_SELECTOR, "li.hit")
    cited = hit.find_element(By.CSS_SELECTOR, "blockquote.passage .cite").text
    click_and_load(browser, lambda: hit.find_element(By.CSS_SELECTOR, "form.add-brief button"))
    assert "Added to" in browser.find_element(By.CSS_SELECTOR, ".flash").text

    # Open a practice page from the advice.
    browser.get(base + "/advise?q=" + "women bus stops night")
    click_and_load(browser, lambda: browser.find_element(By.CSS_SELECTOR, "section.recommendations article.card h3 a"))
    assert browser.find_element(By.CSS_SELECTOR, "article.practice h1").text
    assert browser.find_element(By.CSS_SELECTOR, ".rating-line .meaning").text
    screenshots(browser, "04-practice")

    browser.get(base + "/briefs")
    click_and_load(browser, lambda: browser.find_element(By.CSS_SELECTOR, "ul.brief-list a"))
    brief_url = browser.current_url
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "li.brief-item h3")]
    assert headings[0] == practice_name and len(headings) == 2
    # context, a note of our own, then reorder: move the note to the top
    browser.find_element(By.CSS_SELECTOR, "details summary").click()
    browser.find_element(By.ID, "city").send_keys("Lyon")
    browser.find_element(By.ID, "partners").send_keys("TCL transit operator; women's associations")
    click_and_load(browser, lambda: browser.find_element(By.CSS_SELECTOR, "details form button[type=submit]"))
    browser.find_element(By.ID, "note-heading").send_keys("Our context")
    browser.find_element(By.ID, "note-text").send_keys("Three bus lines run after 22:00 through the Mermoz district.")
    click_and_load(browser, lambda: browser.find_element(By.CSS_SELECTOR, "form[action$='/notes'] button"))
    for _ in range(2):
        items = browser.find_elements(By.CSS_SELECTOR, "li.brief-item")
        ours = next(i for i in items if i.find_element(By.TAG_NAME, "h3").text == "Our context")
        click_and_load(browser, lambda: ours.find_element(By.CSS_SELECTOR, "button[value=up]"))
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "li.brief-item h3")]
    assert headings[0] == "Our context" and headings[1] == practice_name
    note = browser.find_elements(By.CSS_SELECTOR, "li.brief-item")[1].find_element(By.TAG_NAME, "textarea")
    note.send_keys("Start with the two stops near the hospital.")
    click_and_load(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "li.brief-item")[1].find_element(By.CSS_SELECTOR, "button[value=save]"))
    screenshots(browser, "05-brief")

    # Exports: the print-ready HTML in the browser, Markdown and PDF downloaded with the session.
    click_and_load(browser, lambda: browser.find_element(By.LINK_TEXT, "Print-ready HTML"))
    assert browser.find_element(By.TAG_NAME, "h2").text.startswith("1. Our context")
    refs = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "ol.references li")]
    assert refs and any(", p. " in r for r in refs)
    screenshots(browser, "06-brief-export")
    brief_id = brief_url.rstrip("/").rsplit("/", 1)[-1]
    with httpx.Client(base_url=base, cookies=cookies_of(browser)) as http:
        md = http.get(f"/briefs/{brief_id}/export", params={"format": "md"})
        pdf = http.get(f"/briefs/{brief_id}/export", params={"format": "pdf"})
        anonymous = httpx.get(f"{base}/briefs/{brief_id}/export", params={"format": "md"}, follow_redirects=False)
    assert md.status_code == 200 and "attachment" in md.headers["content-disposition"]
    assert "## References" in md.text and "Evidence rating:" in md.text
    assert "Start with the two stops near the hospital." in md.text
    if cited.startswith("p. "):  # the passage taken from search keeps its page in the references
        assert f", p. {cited.split(' · ')[0][3:]}" in md.text.split("## References")[1]
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", md.text)]
    assert numbers and max(numbers) == len(re.findall(r"^\d+\. ", md.text.split("## References")[1], re.M))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "References" in text and "Evidence rating:" in text and "[1]" in text
    assert anonymous.status_code in (303, 401)  # private: anonymous visitors are sent to log in


def test_member_shares_a_french_case_study_moderator_approves_it_is_found(
        browser, live_server, live_hub, screenshots, tmp_path: Path) -> None:
    base = live_server
    report = text_pdf(tmp_path / "rapport-villeurbanne.pdf", [
        "Rapport de la ville de Villeurbanne sur la prévention situationnelle dans le quartier.",
        "Les marches exploratoires nocturnes menées avec les habitantes du quartier des Buers ont conduit à "
        "déplacer deux arrêts de tramway et à installer un éclairage à détection de présence sous le "
        "passage souterrain de la rue Octavie.",
        "Bilan et suites: un comité de suivi se réunit chaque trimestre."])

    # register through the form
    browser.delete_all_cookies()
    browser.get(base + "/register")
    browser.find_element(By.ID, "username").send_keys("lea")
    browser.find_element(By.ID, "display_name").send_keys("Léa Martin")
    browser.find_element(By.ID, "password").send_keys("a-new-password-9")
    browser.find_element(By.ID, "password2").send_keys("a-new-password-9")
    screenshots(browser, "07-register")
    click_and_load(browser, lambda: browser.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]"))
    assert "Léa Martin" in browser.find_element(By.CSS_SELECTOR, ".account").text

    # a member cannot reach the moderation queue
    browser.get(base + "/moderation")
    assert "Not allowed" in browser.find_element(By.TAG_NAME, "h1").text
    assert not browser.find_elements(By.CSS_SELECTOR, "nav a[href='/moderation']")

    browser.get(base + "/share")
    browser.find_element(By.ID, "title").send_keys("Éclairer le passage souterrain des Buers")
    browser.find_element(By.ID, "city").send_keys("Villeurbanne")
    browser.find_element(By.ID, "country").send_keys("France")
    Select(browser.find_element(By.ID, "language")).select_by_value("fr")
    browser.find_element(By.ID, "summary").send_keys(
        "Des habitantes ont mené des marches exploratoires de nuit; la ville a déplacé deux arrêts.")
    browser.find_element(By.CSS_SELECTOR, "input[name=practices]").click()
    browser.find_element(By.ID, "themes").send_keys("femmes, transport")
    browser.find_element(By.ID, "file").send_keys(str(report))
    screenshots(browser, "08-share")
    click_and_load(browser, lambda: browser.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]"))
    assert "pending" in browser.find_element(By.CSS_SELECTOR, ".status").text
    assert "Octavie" in browser.find_element(By.CSS_SELECTOR, "section.preview").text or \
        "Octavie" in browser.page_source

    question = "passage souterrain rue Octavie éclairage"
    before = live_hub.search(question, limit=20)
    assert all("Buers" not in h.title for h in before.hits), "searchable before approval"

    login(browser, base, "mona")
    browser.get(base + "/moderation")
    item = browser.find_element(By.CSS_SELECTOR, "article.queue-item")
    assert "Buers" in item.text and "lea" in item.text
    screenshots(browser, "09-moderation")
    click_and_load(browser, lambda: item.find_element(By.CSS_SELECTOR, "form[action$='/approve'] button"))
    assert "Approved" in browser.find_element(By.CSS_SELECTOR, ".flash").text

    # an advisor finds it from a French question, with the right page
    login(browser, base, "amir")
    search(browser, base, "Comment éclairer un passage souterrain après des marches exploratoires ?")
    hits = browser.find_elements(By.CSS_SELECTOR, "li.hit")
    mine = [h for h in hits[:3] if "Buers" in h.find_element(By.CSS_SELECTOR, "a.title").text]
    assert mine, [h.text[:80] for h in hits[:5]]
    cites = [c.text for c in mine[0].find_elements(By.CSS_SELECTOR, ".cite")]
    assert any(c.startswith("p. 2") for c in cites), cites
    screenshots(browser, "10-found")
    quote = next(q for q in mine[0].find_elements(By.CSS_SELECTOR, "blockquote.passage")
                 if q.find_element(By.CSS_SELECTOR, ".cite").text.startswith("p. 2"))
    Select(quote.find_element(By.CSS_SELECTOR, "select[name=brief]")).select_by_value("new")
    click_and_load(browser, lambda: quote.find_element(By.CSS_SELECTOR, "form.add-brief button"))
    browser.get(base + "/briefs")
    assert "Comment éclairer" in browser.find_element(By.CSS_SELECTOR, "ul.brief-list").text, browser.find_element(By.TAG_NAME, "main").text
    click_and_load(browser, lambda: browser.find_element(By.PARTIAL_LINK_TEXT, "Comment éclairer"))
    pdf_url = browser.find_element(By.LINK_TEXT, "PDF").get_attribute("href")
    pdf = httpx.get(pdf_url, cookies=cookies_of(browser))
    assert pdf.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Éclairer le passage souterrain des Buers, p. 2" in text, text[-400:]
    assert "Octavie" in text and "[1]" in text

    browser.get(base + "/search-never-existed")
    mine_doc = live_hub.search(question).hits[0]
    browser.get(f"{base}/documents/{mine_doc.doc_id}")
    assert "lea" in browser.find_element(By.CSS_SELECTOR, "dl.metadata").text


def test_rejection_reason_reaches_the_member(browser, live_server) -> None:
    base = live_server
    login(browser, base, "maya")
    browser.get(base + "/share")
    for field, value in (("title", "Neighbourhood watch app"), ("city", "Leeds"), ("country", "UK"),
                         ("summary", "We launched an app where residents report suspicious people.")):
        browser.find_element(By.ID, field).send_keys(value)
    click_and_load(browser, lambda: browser.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]"))
    sub_url = browser.current_url
    login(browser, base, "mona")
    browser.get(sub_url)
    browser.find_element(By.CSS_SELECTOR, "section.decide textarea").send_keys(
        "Please add results: how many reports, and what happened after them?")
    click_and_load(browser, lambda: browser.find_element(By.CSS_SELECTOR, "section.decide form[action$='/reject'] button"))
    login(browser, base, "maya")
    browser.get(base + "/submissions")
    row = browser.find_element(By.CSS_SELECTOR, "tbody tr")
    assert "rejected" in row.text and "how many reports" in row.text


def test_scripts_in_submissions_and_ingested_pages_are_shown_as_text(
        browser, live_server, live_hub, tmp_path: Path) -> None:
    base = live_server
    page = tmp_path / "xss.html"
    page.write_text("<html lang='en'><head><title>Night market safety</title>"
                    "<script>window.__pwned = 'head'</script></head><body><main><h1>Night market safety</h1>"
                    "<p>Stall holders asked for lighting. &lt;script&gt;window.__pwned = 'text'&lt;/script&gt; "
                    "was typed into the survey.</p><img src=x onerror=\"window.__pwned='img'\"></main></body></html>")
    report = live_hub.ingest([page])
    doc_id = report.doc_ids[0]
    browser.get(f"{base}/documents/{doc_id}")
    assert "<script>window.__pwned = 'text'</script>" in browser.find_element(By.CSS_SELECTOR, "article").text
    assert browser.execute_script("return window.__pwned === undefined")
    browser.get(f"{base}/documents/{doc_id}/original")
    assert browser.execute_script("return window.__pwned === undefined")

    login(browser, base, "maya")
    browser.get(base + "/share")
    for field, value in (("title", "<script>window.__pwned='title'</script>Market"), ("city", "Lagos"),
                         ("country", "Nigeria"),
                         ("summary", "<img src=x onerror=\"window.__pwned='summary'\"> Traders organised patrols.")):
        browser.find_element(By.ID, field).send_keys(value)
    click_and_load(browser, lambda: browser.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]"))
    assert "<script>window.__pwned='title'</script>Market" in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.execute_script("return window.__pwned === undefined")
    login(browser, base, "mona")
    browser.get(base + "/moderation")
    assert "<script>" in browser.find_element(By.CSS_SELECTOR, "article.queue-item").text
    assert browser.execute_script("return window.__pwned === undefined")


def test_french_interface(browser, live_server, screenshots) -> None:
    base = live_server
    browser.delete_all_cookies()
    browser.get(base + "/practices")
    Select(browser.find_element(By.ID, "lang-select")).select_by_value("fr")
    click_and_load(browser, lambda: browser.find_element(By.CSS_SELECTOR, ".lang-switch button"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert browser.current_url.endswith("/practices")
    nav = browser.find_element(By.CSS_SELECTOR, "header nav").text
    assert "Pratiques" in nav and "Rechercher" in nav
    screenshots(browser, "11-practices-fr")
    browser.get(base + "/login")
    assert browser.find_element(By.CSS_SELECTOR, "label[for=password]").text == "Mot de passe"


UNLABELLED = """
return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea')).filter(el =>
    !el.getAttribute('aria-label') && !el.closest('label') &&
    !(el.id && document.querySelector('label[for="' + el.id + '"]'))).map(el => el.outerHTML.slice(0, 120));
"""


def test_keyboard_only_login_and_every_field_labelled(browser, live_server, live_hub) -> None:
    from selenium.webdriver.common.keys import Keys

    base = live_server
    browser.delete_all_cookies()
    browser.get(base + "/login")
    browser.switch_to.active_element.send_keys("amir")  # the user name field has the focus
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "password"
    old = browser.find_element(By.TAG_NAME, "html")
    browser.switch_to.active_element.send_keys(PASSWORDS["amir"], Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: _gone(old))
    assert "Amir" in browser.find_element(By.CSS_SELECTOR, ".account").text
    # the first Tab reaches the skip link, which leads to the content
    browser.get(base + "/practices")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("class") == "skip"

    sub = live_hub.moderation.submit(live_hub.accounts.by_name("amir"), {
        "title": "Label check", "city": "Quito", "country": "Ecuador", "language": "es",
        "summary": "Una prueba de accesibilidad con varias palabras."})
    brief = live_hub.briefs.create(live_hub.accounts.by_name("amir"), {"title": "Labels"})
    pages = ["/", "/?q=bus+stops+lighting", "/advise?q=youth+violence", "/practices", "/forums", "/share",
             "/briefs", f"/briefs/{brief.id}", "/submissions", f"/submissions/{sub.id}", "/account"]
    for path in pages:
        browser.get(base + path)
        assert browser.execute_script(UNLABELLED) == [], path
    login(browser, base, "ada")
    for path in ("/moderation", "/admin/users", "/register"):
        browser.get(base + path)
        assert browser.execute_script(UNLABELLED) == [], path
