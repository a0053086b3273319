"""Metadata of a file outside the catalog, read from its text: an id from its file name, a title,
a genre and plan years."""

from __future__ import annotations

import hashlib
from pathlib import Path

import regex

from extractor.lexicon.cues import load_statements

AHEAD_IN_TITLE = regex.compile(r"20\d\d\s*年度?(?:工作)?(?:计划|安排|打算|要点|目标)")
_PLAN_WORDS = regex.compile(
    r"(?:20\d\d)\s*(?:[-—–至~]\s*20\d\d\s*)?年度?[^，。；\n]{0,10}?(?:行动计划|工作计划|实施方案|工作要点|规划)"
)
_HORIZON = regex.compile(r"(?:到|至|力争到)\s*(20\d\d)\s*年")
_PUBLISHED = regex.compile(r"(?:发布(?:时间|日期)|印发(?:时间|日期)|成文日期)\s*[：:]\s*(20\d\d)")
_PLAN_YEAR = regex.compile(r"(20\d\d)\s*(?:[-—–至~]\s*(20\d\d)\s*)?年")


def slugify(name: str) -> str:
    """A document id from a file name: lowercase ASCII words joined by hyphens."""
    slug = regex.sub(r"[^a-z0-9]+", "-", Path(name).stem.lower()).strip("-")
    return slug or "document-" + hashlib.sha1(name.encode()).hexdigest()[:8]


_TITLE_WORDS = regex.compile(r"《|计划|规划|方案|说明|解读|意见|通知|问答|报告|总结|关于")


_BYLINE = regex.compile(r"^(?:来源|本报记者|记者|作者|责任编辑|编辑)[：:\s]")
_HEADLINE_PREFIX = regex.compile(r"^(?:原标题|标题)[：:]\s*")
_INNER_STOP = regex.compile(r"[。！？；](?=.)")


def guess_title(text: str) -> str | None:
    """A title for a file outside the catalog, from the lines before its first sentence: the first
    that reads like one (names a plan, 说明, 解读…), else the first (a news headline; 原标题：
    dropped); else its first line. Artifacts like [bookmark: …] and by-lines are left out."""
    lines = [regex.sub(r"\[bookmark:[^\]]*\]", "", ln).strip() for ln in text.splitlines()[:15]]
    lines = [ln for ln in lines if ln]
    headlines = []
    for line in lines:
        if _BYLINE.match(line):
            continue
        if len(line) > 120 or _INNER_STOP.search(line):
            break  # the body has begun
        headlines.append(_HEADLINE_PREFIX.sub("", line))
    titled = next((ln for ln in headlines if _TITLE_WORDS.search(ln)), None)
    return titled or (headlines[0] if headlines else lines[0] if lines else None)


def guess_genre(title: str) -> str | None:
    """The genre of an uncatalogued file from its title: a report of results (公报, 工作总结,
    新闻发布会; statements.yml ``report_titles``) or a plan genre."""
    for word, genre in load_statements().report_titles.items():
        if word in title and not AHEAD_IN_TITLE.search(title):
            return genre
    for word, genre in (
        ("问答", "问答解读"),
        ("解读", "政策解读"),
        ("起草说明", "起草说明"),
        ("规划", "规划"),
    ):
        if word in title:
            return genre
    return "行动计划" if regex.search(r"计划|方案|要点", title) else None


def guess_plan_years(title: str, text: str, file_name: str = "") -> tuple[int | None, int | None]:
    """The plan year(s) of a file outside the catalog, from the first of: its title or file
    name (…2024年行动计划, "十四五" → 2021-2025), the plan it names (2024年工作计划), its horizon
    (到2025年, from its publication year when it states one), a year near its start."""
    named = [m.group(0) for m in _PLAN_WORDS.finditer(text[:1500])]
    for candidate in (title, file_name, *named):
        if "十四五" in candidate:
            return 2021, 2025
        if years := _years_named(candidate):
            return years
    horizon = _HORIZON.search(text[:1500])
    if horizon:
        end = int(horizon.group(1))
        published = _PUBLISHED.search(text[:600])
        start = int(published.group(1)) if published else None
        return (start, end) if start and start < end else (end, None)
    return _years_named(text[:400]) or (None, None)


_PLAN_FILE = regex.compile(
    r"(?:19|20)\d{2}.*?(?:计划|方案|规划|要点|plan|programme|program)", regex.IGNORECASE
)


def plan_years_named(title: str, text: str, file_name: str = "") -> bool:
    """The plan years of a file outside the catalog are named (its title, a file name that names a
    plan, a plan the opening names), not guessed from a year near its start."""
    if "十四五" in title or _years_named(title):
        return True
    if _PLAN_FILE.search(file_name):
        return True
    return bool(_PLAN_WORDS.search(text[:1500]))


def report_year(text: str, period_end: int) -> int | None:
    """The year a report on a plan period (“十四五”…中期评估) reports on: the latest year it
    names before the period's end."""
    years = [int(y) for y in regex.findall(r"(20\d\d)\s*年", text) if int(y) < period_end]
    return max(years) if years else None


def _years_named(text: str) -> tuple[int, int | None] | None:
    """The latest plan year(s) a text names ("2023年工作总结和2024年工作计划" → 2024)."""
    found = [(int(m.group(1)), int(m.group(2)) if m.group(2) else None) for m in _PLAN_YEAR.finditer(text)]
    return max(found, key=lambda y: (y[1] or y[0], y[0])) if found else None
