"""The package as a user gets it: a wheel built from the repository, installed into a fresh
virtual environment, ``policykb serve --db .../kb.db`` started from an empty folder (no corpus/,
no metadata.yml), the site fetched over HTTP.

The fresh venv gets the project only from the wheel; its dependencies (Datasette, jieba,
spaCy ...) are borrowed from the running environment through a ``.pth`` file, like
``--system-site-packages`` would (the system Python does not have them), so nothing is
downloaded. A ``.pth`` line only adds a directory to ``sys.path``, so the editable install of
the running environment (a ``.pth`` finder in its site-packages) stays inactive there; the test
checks that ``extractor`` is imported from the new venv. The wheel is built without build
isolation (setuptools>=77 is a test dependency). About 10-20 s; run alone with ``pytest -m wheel``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest_web import free_port, wait_for_server

from .conftest import ROOT

pytestmark = pytest.mark.wheel

PM25 = "pm25_annual_mean"


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=180, **kwargs)
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv with the wheel of the repository installed; returns its bin/ folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # a clean copy: no build/ or egg-info left in the repository
    src.mkdir()
    for name in ["pyproject.toml", "README.md", "LICENSE"]:
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "extractor", src / "extractor", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, src)
    (wheel,) = dist.glob("policy_kb-*.whl")

    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    purelib = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    )
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "borrowed-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel)

    where = run(python, "-c", "import extractor; print(extractor.__file__)", cwd=tmp).stdout.strip()
    assert Path(where).is_relative_to(venv), f"extractor imported from {where}, not from the wheel"
    return venv / "bin"


@pytest.fixture(scope="module")
def server(installed, kb_path, tmp_path_factory):
    """``policykb serve --db <kb.db>`` of the installed wheel, started in an empty folder."""
    empty = tmp_path_factory.mktemp("empty")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["PYTHONUNBUFFERED"] = "1"
    log = empty.parent / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [installed / "policykb", "serve", "--db", str(kb_path), "--port", str(port)],
            cwd=empty,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    wait_for_server(proc, url, 30, log)
    yield url, log
    proc.terminate()
    proc.wait(timeout=10)
    assert list(empty.iterdir()) == [], "serve wrote into the working folder"


def get(url: str, path: str, **params) -> str:
    query = "?" + urllib.parse.urlencode(params) if params else ""
    with urllib.request.urlopen(url + urllib.parse.quote(path, safe="/:") + query, timeout=20) as r:
        assert r.status == 200, path
        return r.read().decode("utf-8")


def get_rows(url: str, path: str, **params) -> list[dict]:
    return json.loads(get(url, path, _shape="array", **params))


def test_the_installed_wheel_serves_the_site(server, kb_path):
    url, log = server
    started = log.read_text()
    assert f"serving {kb_path} as it is (not rebuilt)" in started
    assert "Traceback" not in started

    home = get(url, "/")
    assert 'action="/-/search"' in home and 'name="q"' in home
    assert 'href="/-/compare"' in home and '<html lang="zh-CN">' in home

    measures = get_rows(url, "/kb/search_measures.json", q="扬尘")
    assert measures and all("<mark>扬尘</mark>" in r["snippet"] for r in measures)
    assert all(r["citation"] and r["clause_url"].startswith("/-/clause/") for r in measures)

    compare = get_rows(url, "/kb/compare_indicator.json", indicator=PM25)
    targets = {r["district"]: (r["value"], r["year"]) for r in compare if r["kind"] == "target"}
    assert targets.get("怀柔区") == (28, 2024) and targets.get("朝阳区") == (32, 2025)

    coverage = get_rows(url, "/kb/coverage.json", _size="max")
    assert coverage and {(r["indicator_id"], r["district"]) for r in coverage if r["states_target"]} >= {
        (PM25, "怀柔区"),
        ("dustfall", "丰台区"),
    }

    found = get(url, "/-/search", q="揚塵")  # the search page and its template came with the wheel
    assert "<title>检索：揚塵 · policy-kb</title>" in found and "<mark>扬尘</mark>" in found

    index = get(url, "/-/compare")
    assert f'href="/-/compare/{PM25}"' in index

    page = get(url, f"/-/compare/{PM25}")
    assert "≤ 28 微克/立方米" in page and "怀柔区" in page
    for script in ["vega.min.js", "vega-lite.min.js", "vega-embed.min.js"]:
        src = f"/-/static-plugins/policy-kb/vendor/{script}"
        assert src in page
        assert len(get(url, src)) > 50_000, script  # the vendored files came with the wheel
    assert "/-/static-plugins/policy-kb/policykb.css" in page
    assert ".policykb" in get(url, "/-/static-plugins/policy-kb/policykb.css")

    huairou = next(r for r in compare if r["district"] == "怀柔区" and r["kind"] == "target")
    path, _, query = huairou["clause_url"].partition("?")
    clause = get(url, path, **dict(urllib.parse.parse_qsl(query)))
    assert '<mark class="quantity selected">28微克/立方米</mark>' in clause
    assert "北京市怀柔区生态环境局，《" in clause
    assert f'href="/-/compare/{PM25}"' in clause
