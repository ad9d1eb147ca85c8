"""Shared fixtures: the real model (loaded once per session), real stores in temp folders."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hub.core import Hub  # noqa: E402
from hub.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "library"
DOCUMENTS = LIBRARY / "documents"
JUDGED = ROOT / "bench" / "judged"


QDRANT_URL = os.environ.get("HUB_QDRANT_URL")


#: Unpacked model files for the tests' hubs (hub/unpacked.py), apart from the user's own cache.
MODEL_CACHE = Path(tempfile.gettempdir()) / "urban-safety-hub-tests" / "model-cache"


def settings_for(home: Path, **overrides) -> Settings:
    """Test settings: embedded Qdrant in the home, or, when HUB_QDRANT_URL is set, that server
    with a collection of the test's own (the Qdrant-facing tests then run against the server)."""
    if QDRANT_URL:
        import uuid

        overrides = {"qdrant_url": QDRANT_URL, "collection": f"test_{uuid.uuid4().hex[:12]}", **overrides}
    overrides = {"model_cache": MODEL_CACHE, **overrides}
    return Settings.from_env({}, home=home, progress=False, **overrides)


@pytest.fixture(scope="session")
def embedder(tmp_path_factory):
    """The default encoders, their packed weights unpacked into a model cache of this session's
    own (hub/unpacked.py), so the tests that compare vectors with references read those copies."""
    from search.embedder import Embedder

    settings = Settings()
    return Embedder(settings.model, settings.model_share, tmp_path_factory.mktemp("model-cache"))


@pytest.fixture
def make_hub(tmp_path: Path, embedder) -> Callable[..., Hub]:
    """A fresh hub in its own home; settings can be overridden per test."""
    hubs: list[Hub] = []

    def factory(**overrides) -> Hub:
        home = tmp_path / f"home{len(hubs)}"
        hub = Hub(settings_for(home, **overrides), embedder=embedder)
        hubs.append(hub)
        return hub

    yield factory
    for hub in hubs:
        hub.close()


@pytest.fixture
def hub(make_hub) -> Hub:
    return make_hub()


@pytest.fixture(scope="session")
def library_home(tmp_path_factory, embedder) -> Path:
    """A home with the bundled sample library ingested once for the whole session."""
    home = tmp_path_factory.mktemp("library-home")
    with Hub(settings_for(home), embedder=embedder) as h:
        report = h.ingest([LIBRARY])
        (home / ".collection").write_text(h.settings.collection)
    assert report.rejected == [], [str(r) for r in report.rejected]
    return home


def _collection_of(home: Path) -> str | None:
    """With a server, a home's collection name is remembered next to it (see library_home)."""
    marker = home / ".collection"
    return marker.read_text() if marker.exists() else None


@pytest.fixture(scope="session")
def library_hub(library_home: Path, embedder) -> Hub:
    h = Hub(settings_for(library_home, collection=_collection_of(library_home)), embedder=embedder)
    yield h
    h.close()


@pytest.fixture(scope="session")
def documents_hub(tmp_path_factory, embedder) -> Hub:
    """The sample evidence documents alone: what the judged search set grades."""
    home = tmp_path_factory.mktemp("documents-home")
    h = Hub(settings_for(home), embedder=embedder)
    assert h.ingest([DOCUMENTS]).rejected == []
    yield h
    h.close()


@pytest.fixture
def library_copy(tmp_path: Path) -> Path:
    """A private copy of the sample library, for tests that change files."""
    dest = tmp_path / "library"
    shutil.copytree(LIBRARY, dest)
    return dest


# --- community: a live hub over real HTTP, and a real browser ----------------------------------
PASSWORDS = {"ada": "admin-password-1", "mona": "moderator-pass-1", "amir": "advisor-pass-12",
             "maya": "member-pass-123"}
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory, library_home: Path, embedder) -> Hub:
    """A copy of the library hub that tests may change (submissions, briefs), with one user per
    role: ada (admin), mona (moderator), amir and maya (members). Small limits so that oversized
    uploads are cheap to make."""
    home = tmp_path_factory.mktemp("live") / "home"
    if not QDRANT_URL:  # a copy is enough; on a server the copy needs its own collection, filled anew
        shutil.copytree(library_home, home, ignore=shutil.ignore_patterns(".lock", ".collection"))
    h = Hub(settings_for(home, max_file_mb=2, max_upload_mb=3, login_attempts=5), embedder=embedder)
    if QDRANT_URL:
        h.ingest([LIBRARY])
    for name, role in (("ada", "admin"), ("mona", "moderator"), ("amir", "member"), ("maya", "member")):
        h.accounts.register(name, PASSWORDS[name], role=role, display_name=name.title())
    yield h
    h.close()


@contextmanager
def serving(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An ASGI app served by uvicorn on a free loopback port, in a thread of the test process,
    with the options `hub serve` uses (web.app.SERVER_OPTIONS); yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from web.app import SERVER_OPTIONS

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                           **SERVER_OPTIONS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server(live_hub: Hub) -> Iterator[str]:
    """The web app served over real HTTP on a free loopback port."""
    from web.app import create_app

    with serving(create_app(live_hub)) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from Debian (chromium, chromium-driver) driven by Selenium; no download."""
    import tempfile

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium")
    driver_path = os.environ.get("HUB_CHROMEDRIVER", "/usr/bin/chromedriver")
    if not (Path(binary).exists() and Path(driver_path).exists()):
        pytest.fail(f"browser tests need {binary} and {driver_path}: apt-get install chromium chromium-driver "
                    "(.ci/run does this)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1000", "--lang=en-GB", f"--user-data-dir={tempfile.mkdtemp()}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def screenshots() -> Callable[[object, str], Path]:
    """Save a full-window PNG of the browser's page under test-artifacts/screenshots/."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    def shoot(driver, name: str) -> Path:  # type: ignore[no-untyped-def]
        path = folder / f"{name}.png"
        driver.save_screenshot(str(path))
        return path

    return shoot


def csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    """The CSRF token of the form on a page, as a browser would send it back."""
    import re

    page = client.get(path)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def logged_in(base: str, username: str | None = None, password: str = "", timeout: float = 60):  # type: ignore[no-untyped-def]
    """A browser-like client over HTTP: it loads a page for its CSRF token, then (given a user name)
    logs in through the form. Returns the client and the CSRF token of its session."""
    import httpx

    client = httpx.Client(base_url=base, follow_redirects=False, timeout=timeout)
    token = csrf(client, "/login")
    if username:
        r = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        assert r.status_code == 303, r.text
        token = csrf(client, "/")
    return client, token
