"""Start-up: ``make serve`` / ``make test`` run pip only when pyproject.toml changed (stamp files
in .venv), ``policykb evaluate`` finds the development gold in a fresh clone."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make_n(venv: Path, *args: str) -> str:
    """What ``make`` would run (``-n``: nothing is run) with VENV=venv."""
    result = subprocess.run(
        ["make", "-n", f"VENV={venv}", *args], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout


@needs_make
def test_make_installs_only_when_pyproject_changed(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    assert "pip install --quiet -e ." in make_n(venv, "serve")  # never installed: install

    (venv / ".installed").touch()  # installed after pyproject.toml last changed
    out = make_n(venv, "serve")
    assert "pip install" not in out and "policykb serve" in out
    assert "pip install" in make_n(venv, "-W", "pyproject.toml", "serve")  # pyproject.toml changed

    assert "pip install --quiet -e '.[test]'" in make_n(venv, "test")
    (venv / ".installed-test").touch()
    assert "pip install" not in make_n(venv, "test")

    old = os.stat(ROOT / "pyproject.toml").st_mtime - 10  # a stamp older than pyproject.toml
    os.utime(venv / ".installed", (old, old))
    assert "pip install --quiet -e ." in make_n(venv, "install")


def test_evaluate_defaults_to_the_gold_in_the_repository():
    from extractor.cli import main

    gold = next(p for p in main.commands["evaluate"].params if p.name == "gold_dir")
    assert gold.default == "tests/gold"
    assert (ROOT / gold.default / "SCHEMA.md").is_file()
    assert sorted((ROOT / gold.default).glob("*.jsonl")), "the development gold ships with the repository"
