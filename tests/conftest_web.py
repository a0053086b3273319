"""Fixtures for the web tests (imported by tests/test_web.py and tests/test_browser.py).

``kb_path`` is the lead's session ``built_db`` (kb.db built from corpus/ by
``extractor.kb.store.build_db``), or the file named by ``POLICYKB_TEST_DB`` when set (to test a
given build quickly). ``ds`` is a started Datasette on it with the repository's metadata.yml
(the site's title and licence; the plugin brings the rest).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

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
