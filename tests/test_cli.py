"""The command line: help texts, README examples that cannot drift, extract and quantities."""

from __future__ import annotations

import json
import shlex

import click
import pytest
from click.testing import CliRunner

from extractor.cli import main

from .conftest import ROOT

COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name):
    command = main.commands[name]
    assert command.help and command.short_help != "", name
    result = CliRunner().invoke(main, [name, "--help"], prog_name="policykb")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "  Example:" in lines, f"{name} --help shows no example"
    example = lines[lines.index("  Example:") + 1].strip()
    assert example.startswith(f"policykb {name}"), f"{name}: the example runs {example!r}"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_has_a_help_text(name):
    for param in main.commands[name].params:
        if isinstance(param, click.Option):
            assert param.help, f"policykb {name} {param.opts[0]} has no help text"


@pytest.mark.parametrize("name", COMMANDS)
def test_readme_documents_every_command(name):
    assert f"policykb {name}" in (ROOT / "README.md").read_text(encoding="utf-8")


def readme_examples():
    """``(command, expected output)`` pairs from README blocks of the form ``$ policykb …`` + output."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("$ policykb quantities"):
            out = []
            for nxt in lines[i + 1 :]:
                if not nxt.strip() or nxt.startswith(("$", "```")):
                    break
                out.append(nxt)
            yield line[2:], "\n".join(out)


@pytest.mark.parametrize("command,expected", list(readme_examples()))
def test_readme_output_is_what_the_command_prints(command, expected):
    args = shlex.split(command)[1:]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    assert result.output.strip() == expected.strip()


def test_quantities_reads_standard_input():
    result = CliRunner().invoke(main, ["quantities"], input="优良天数比率达到78%，重污染天不超过3天")
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["value"], r["unit"]) for r in rows] == [(78, "%"), (3, "天")]
    assert set(rows[0]) == {"value", "value_max", "unit", "canonical_unit", "surface", "start", "end"}


def test_extract_any_file_outside_the_catalog(tmp_path):
    path = tmp_path / "某区2026年行动计划.txt"
    path.write_text(
        "一、工作目标\n蓝天保卫战方面：PM2.5年均浓度不高于29微克/立方米，降尘量控制在4吨/平方公里·月以内。\n",
        encoding="gbk",
    )
    result = CliRunner().invoke(main, ["extract", str(path)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    text = path.read_bytes().decode("gbk")
    assert [(r["indicator_id"], r["value"], r["comparator"], r["year"]) for r in rows] == [
        ("pm25_annual_mean", 29, "<=", 2026),
        ("dustfall", 4, "<=", 2026),
    ]
    for r in rows:
        assert text[r["start"] : r["end"]] == r["surface"]
        assert r["campaign"] == "air" and r["clause"] in text
        for key in ("doc", "section", "clause", "indicator", "value_max", "unit", "kind", "base_year"):
            assert key in r
    table = CliRunner().invoke(main, ["extract", str(path), "--format", "table"])
    assert "降尘量" in table.output and "≤ 4 吨/平方公里·月" in table.output


def test_errors_are_one_line_without_traceback(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    result = CliRunner().invoke(main, ["extract", str(bad)])
    assert result.exit_code == 1
    assert "bad.txt" in result.output and "empty" in result.output and "Traceback" not in result.output


def readme_evaluate_blocks():
    """``(args, the four score lines)`` for each ``$ policykb evaluate`` shown in the README."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("$ policykb evaluate"):
            yield shlex.split(line[2:])[1:], "\n".join(lines[i + 1 : i + 5])


@pytest.mark.parametrize("args,expected", list(readme_evaluate_blocks()))
def test_readme_shows_the_current_scores(args, expected):
    missing = [a for a in args if a.startswith("../") and not (ROOT / a).exists()]
    if missing:
        pytest.skip(f"{missing[0]} is absent (third-party texts live outside the repository)")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    assert "\n".join(result.output.strip().splitlines()[-4:]) == expected, "update the README's scores"


def test_build_into_a_directory_is_a_clear_error_before_any_work(tmp_path):
    result = CliRunner().invoke(main, ["build", "--db", str(tmp_path)])
    assert result.exit_code != 0 and "is a directory" in result.output and str(tmp_path) in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_serving_a_file_that_is_not_a_knowledge_base_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no corpus/ here: nothing is rebuilt
    (tmp_path / "bad.db").write_text("not sqlite", encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", "--db", "bad.db", "--port", "1"])
    assert result.exit_code != 0 and "bad.db: not an SQLite database" in result.output
    from extractor.sqlite import sqlite3

    sqlite3.connect(tmp_path / "other.db").execute("create table t (x)").connection.commit()
    result = CliRunner().invoke(main, ["serve", "--db", "other.db", "--port", "1"])
    assert result.exit_code != 0 and "not a policy-kb knowledge base" in result.output
