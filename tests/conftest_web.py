"""Fixtures for the web tests (imported by tests/test_web.py and tests/test_browser.py).

``kb_path`` is the lead's session ``built_db`` (kb.db built from corpus/ by
``extractor.kb.store.build_db``), or the file named by ``POLICYKB_TEST_DB`` when set (to test a
given build quickly). ``ds`` is a started Datasette on it with the repository's metadata.yml
(the site's title and licence; the plugin brings the rest).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from extractor.sqlite import sqlite3
from extractor.web.serve import DEFAULT_METADATA, load_metadata, make_datasette

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def kb_path(request) -> Path:
    override = os.environ.get("POLICYKB_TEST_DB")
    if override:
        return Path(override)
    return request.getfixturevalue("built_db")


@pytest.fixture(scope="session")
def metadata() -> dict:
    assert DEFAULT_METADATA == ROOT / "metadata.yml"
    return load_metadata()


@pytest.fixture
def conn(kb_path):
    """A plain sqlite3 connection with the plugin's SQL functions, like Datasette's."""
    from extractor.web.search import register_functions

    c = sqlite3.connect(f"file:{kb_path}?mode=ro", uri=True)
    register_functions(c)
    yield c
    c.close()


@pytest.fixture
async def ds(kb_path):
    datasette = make_datasette(kb_path)
    await datasette.invoke_startup()
    return datasette


def wait_for_server(proc, url: str, seconds: float, log: Path | None = None) -> None:
    """Wait until the Datasette at ``url`` answers, or fail with the process's exit code (and log)."""
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url + "/-/versions.json", timeout=1).read()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                detail = f":\n{log.read_text()}" if log is not None else ""
                pytest.fail(f"server did not start (exit code {proc.poll()}){detail}")
            time.sleep(0.1)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- a real browser on a served site (Debian's chromium; never `playwright install`) ------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install -y chromium fonts-noto-cjk)"
    ),
]


@contextlib.contextmanager
def serving(db_path, corpus_dir="corpus", metadata_path=None, timeout=15, workers=1):
    """``serve()`` on ``db_path`` in a subprocess on a free port (build=False), with the site's
    ``metadata_path`` if given and ``workers`` processes; yields its URL."""
    import subprocess
    import sys

    port = free_port()
    metadata = f", metadata_path={str(metadata_path)!r}" if metadata_path else ""
    more = f", workers={workers}" if workers > 1 else ""
    code = (
        "from extractor.web.serve import serve; "
        f"serve({str(db_path)!r}, {str(corpus_dir)!r}, '127.0.0.1', {port}{metadata}, build=False{more})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(proc, url, timeout)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(kb_path):
    """The site on the session's kb.db, one server per test module."""
    with serving(kb_path) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Chromium, one per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A desktop page (1280 px) that fails the test on a JavaScript error or a console error."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    assert not errors, errors
