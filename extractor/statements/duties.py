"""Who does what by when: the units responsible for a clause's task and its deadline.

Two layouts of 行动计划 (vocabulary in ``extractor/data/duties.yml``):

- inline brackets: （牵头单位：区生态环境局；配合单位：区城管委、各街乡镇）, 责任单位：…,
  （区生态环境局牵头，区城管委配合）, and deadlines in the text: 2024年6月底前完成, 年底前,
  上半年, 第三季度, 2024年6月30日前;
- task tables (tab-separated rows): a header row naming 牵头单位 / 配合单位 / 责任单位 and
  完成时限 columns; each later row's cells are read as those columns.

Offsets are into the source text (``documents.text``); ``text[start:end]`` is the unit or the
deadline as written. A date without a year takes the plan's first year.
"""

from __future__ import annotations

import bisect
import calendar
import itertools
import re
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from extractor.lexicon.base import load_data
from extractor.model import Clause

_UNIT_END = re.compile(r"[；;。）)\n\t]")
_CLAUSE_SEPARATOR = re.compile(r"([，,；;])")
_SPACES = re.compile(r"\s+")


@dataclass
class Responsibility:
    clause_id: str
    document_id: str
    role: str  # "lead" | "partner"
    unit: str  # as written
    unit_normalized: str
    start: int
    end: int

    def to_row(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Deadline:
    clause_id: str
    document_id: str
    date: str | None  # 2024-06-30; None for an ongoing task (持续推进)
    precision: str  # "day" | "month" | "quarter" | "half" | "year" | "ongoing"
    surface: str  # the words as written
    start: int
    end: int

    def to_row(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DutyLexicon:
    labels: dict[str, str]  # label -> role
    verbs: dict[str, str]  # verb -> role
    lead_marks: tuple[str, ...]
    deadline_columns: tuple[str, ...]
    before: tuple[str, ...]
    completion: tuple[str, ...]
    ongoing: tuple[str, ...]
    prefixes: tuple[str, ...]
    keep: tuple[str, ...]
    aliases: dict[str, str]  # variant -> normal form


def _longest_first(words) -> list[str]:
    return sorted(words, key=len, reverse=True)


@cache
def load_duties() -> DutyLexicon:
    data = load_data("duties.yml")
    aliases = {}
    for normal, variants in data["unit_aliases"].items():
        for v in [normal, *variants]:
            aliases[v] = normal
    return DutyLexicon(
        labels={w: role for role, words in data["labels"].items() for w in words},
        verbs={w: role for role, words in data["verbs"].items() for w in words},
        lead_marks=tuple(data["lead_marks"]),
        deadline_columns=tuple(data["deadline_columns"]),
        before=tuple(data["before"]),
        completion=tuple(data["completion"]),
        ongoing=tuple(_longest_first(data["ongoing"])),
        prefixes=tuple(_longest_first(data["unit_prefixes"])),
        keep=tuple(data["unit_keep"]),
        aliases=aliases,
    )


def normalize_unit(unit: str) -> str:
    """区生态环境局 -> 生态环境局, 各街乡镇 -> 街乡镇, 各街镇 -> 街乡镇; 区委区政府 stays."""
    lex = load_duties()
    name = unit.strip()
    for _ in range(2):  # 各区级… : two prefixes at most
        if name.startswith(lex.keep):
            break
        prefix = next((p for p in lex.prefixes if name.startswith(p) and len(name) - len(p) >= 2), None)
        if prefix is None:
            break
        name = name[len(prefix) :]
    return lex.aliases.get(name, name)


# -- units ---------------------------------------------------------------------------------------

_SEPARATORS = "、，,／/"
_UNIT_SEPARATOR = re.compile(rf"([{re.escape(_SEPARATORS)}]|等)")
_BRACKET = re.compile(r"[（(]([^（()）]*(?:[（(]牵头[)）][^（()）]*)*)[)）]")


@cache
def _label_re() -> re.Pattern[str]:
    labels = "|".join(map(re.escape, _longest_first(load_duties().labels)))
    return re.compile(rf"(?P<label>{labels})\s*[:：]\s*")


def _split_units(text: str, base: int, role: str) -> list[tuple[str, str, int, int]]:
    """(role, unit, start, end) for each unit of a list 区生态环境局、区城管委; a unit marked
    （牵头） is the lead and the others of the list partners."""
    lex = load_duties()
    pieces: list[tuple[str, int, int, bool]] = []
    pos = 0
    for part in _UNIT_SEPARATOR.split(text):
        if part and part not in _SEPARATORS and part != "等":
            marked = False
            body = part
            for mark in lex.lead_marks:
                if body.endswith(mark):
                    body, marked = body[: -len(mark)], True
            lead_ws = len(body) - len(body.lstrip())
            body = body.strip()
            if len(body) >= 2:
                pieces.append((body, base + pos + lead_ws, base + pos + lead_ws + len(body), marked))
        pos += len(part)
    any_marked = any(m for *_, m in pieces)
    return [
        ("lead" if (m or (role == "lead" and not any_marked)) else "partner", u, s, e)
        for u, s, e, m in pieces
    ]


def _labelled(text: str, base: int) -> list[tuple[str, str, int, int]]:
    """Units after labels: 牵头单位：A；配合单位：B、C (a value ends at ；。 or the next label)."""
    lex = load_duties()
    found = []
    matches = list(_label_re().finditer(text))
    for i, m in enumerate(matches):
        stop = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        value = text[m.end() : stop]
        masked = value
        for mark in lex.lead_marks:  # 区住房城乡建设委（牵头）、区城管委: its bracket ends nothing
            masked = masked.replace(mark, "_" * len(mark))
        cut = _UNIT_END.search(masked)
        value = value[: cut.start()] if cut else value
        found += _split_units(value, base + m.end(), lex.labels[m.group("label")])
    return found


@cache
def _verbal_pattern() -> re.Pattern[str]:
    """A clause ending in a duty verb (牵头, 配合), longest verb first; compiled once."""
    verbs = "|".join(map(re.escape, _longest_first(load_duties().verbs)))
    return re.compile(rf"\s*(.+?)(?P<verb>{verbs})\s*")


def _verbal(text: str, base: int) -> list[tuple[str, str, int, int]]:
    """Inside a bracket without labels: 区生态环境局牵头，区城管委、各街乡镇配合."""
    lex = load_duties()
    verbal = _verbal_pattern()
    found = []
    pos = 0
    for part in _CLAUSE_SEPARATOR.split(text):
        m = verbal.fullmatch(part)
        if m and part not in "，,；;":
            found += _split_units(m.group(1), base + pos + m.start(1), lex.verbs[m.group("verb")])
        pos += len(part)
    return found


def inline_units(text: str, base: int = 0) -> list[tuple[str, str, int, int]]:
    """(role, unit, start, end) named in ``text``: labels anywhere (责任单位：…), verbs inside
    brackets (（区生态环境局牵头，区城管委配合）). Offsets are ``base`` + offsets in ``text``."""
    found = _labelled(text, base)
    taken = [(s, e) for *_, s, e in found]
    for m in _BRACKET.finditer(text):
        inner = m.group(1)
        if _label_re().search(inner):
            continue
        for hit in _verbal(inner, base + m.start(1)):
            if not any(s <= hit[2] < e for s, e in taken):
                found.append(hit)
    return sorted(found, key=lambda h: h[2])


# -- deadlines -----------------------------------------------------------------------------------

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


@cache
def _deadline_re() -> re.Pattern[str]:
    lex = load_duties()
    before = "|".join(map(re.escape, lex.before))
    completion = "|".join(map(re.escape, lex.completion))
    return re.compile(
        r"(?:(?P<y>(?:19|20)\d{2})\s*年)?"
        r"(?:(?P<m>1[0-2]|0?[1-9])\s*月(?:(?P<d>3[01]|[12]\d|0?[1-9])\s*日|(?P<me>底|末|份))?"
        r"|(?P<half>上半年|下半年)"
        r"|第(?P<q>[一二三四1-4])季度(?:末|底)?"
        r"|(?P<ye>年底|年末)"
        r"|(?<=年)(?P<yo>底|末|)"
        r")"
        rf"(?P<cue>(?:{before})?\s*(?:{completion})?)"
    )


def _iso(year: int, month: int, day: int | None = None) -> str:
    day = day or calendar.monthrange(year, month)[1]
    return f"{year:04d}-{month:02d}-{day:02d}"


def find_deadlines(
    text: str, plan_year: int | None, base: int = 0, *, column: bool = False
) -> list[tuple[str | None, str, int, int]]:
    """(date, precision, start, end) of each deadline in ``text``: 2024年6月底前, 年底前,
    上半年, 第三季度, 2024年6月30日前. Outside a deadline ``column`` a date is a deadline
    only with a cue after it (前, 之前, 完成…); a year before ``plan_year`` - 1 is history."""
    lex = load_duties()
    found: list[tuple[str | None, str, int, int]] = []
    # every deadline names a year (年), a month (月) or a quarter (季度): a text without any has none
    dated = "年" in text or "月" in text or "季" in text
    for m in _deadline_re().finditer(text) if dated else ():
        cue = m.group("cue").strip()
        if not cue and not column:
            continue
        if m.group("yo") is not None and not m.group("y"):
            continue
        if m.group("yo") == "" and not cue.startswith(lex.before):  # 2025年前, never 2025年完成
            continue
        year = int(m.group("y")) if m.group("y") else plan_year
        if year is None or (plan_year is not None and m.group("y") and year < plan_year - 1):
            continue
        if m.group("m"):
            month = int(m.group("m"))
            if m.group("d"):
                date, precision = _iso(year, month, int(m.group("d"))), "day"
            else:
                date, precision = _iso(year, month), "month"
        elif m.group("half"):
            date, precision = _iso(year, 6 if m.group("half") == "上半年" else 12), "half"
        elif m.group("q"):
            date, precision = _iso(year, 3 * _CN_DIGITS[m.group("q")]), "quarter"
        else:
            date, precision = _iso(year, 12), "year"
        # the words as written: the date and its 前/之前, not the verb after (完成)
        end = m.end()
        for word in sorted(lex.completion, key=len, reverse=True):
            if text[m.start() : end].rstrip().endswith(word):
                end = m.start() + len(text[m.start() : end].rstrip()) - len(word)
                break
        end = m.start() + len(text[m.start() : end].rstrip())
        found.append((date, precision, base + m.start(), base + end))
    if column and not found:
        for word in lex.ongoing:
            i = text.find(word)
            if i >= 0:
                found.append((None, "ongoing", base + i, base + i + len(word)))
                break
    return found


# -- tables --------------------------------------------------------------------------------------


def _cells(line: str, base: int) -> list[tuple[str, int, int]]:
    cells, pos = [], 0
    for part in line.split("\t"):
        lead = len(part) - len(part.lstrip())
        body = part.strip()
        cells.append((body, base + pos + lead, base + pos + lead + len(body)))
        pos += len(part) + 1
    return cells


def _header_roles(cells: list[tuple[str, int, int]]) -> dict[int, str] | None:
    """Column index -> "lead" | "partner" | "deadline" for a task table's header row."""
    lex = load_duties()
    roles = {}
    for i, (cell, _, _) in enumerate(cells):
        name = _SPACES.sub("", cell)
        if name in lex.labels:
            roles[i] = lex.labels[name]
        elif name in lex.deadline_columns:
            roles[i] = "deadline"
    return roles if any(r != "deadline" for r in roles.values()) or "deadline" in roles.values() else None


def table_duties(
    text: str, plan_year: int | None
) -> tuple[list[tuple[str, str, int, int]], list[tuple[str | None, str, int, int]]]:
    """Units and deadlines read from task tables: rows (two tabs or more) under a header row
    naming 责任单位 / 牵头单位 / 配合单位 / 完成时限 columns."""
    units: list[tuple[str, str, int, int]] = []
    deadlines: list[tuple[str | None, str, int, int]] = []
    header: dict[int, str] | None = None
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if body.count("\t") >= 2:
            cells = _cells(body, pos)
            roles = _header_roles(cells)
            if roles:
                header = roles
            elif header:
                for i, role in header.items():
                    if i >= len(cells) or not cells[i][0]:
                        continue
                    cell, start, _ = cells[i]
                    if role == "deadline":
                        deadlines += find_deadlines(cell, plan_year, start, column=True)
                    else:
                        units += _split_units(cell, start, role)
        else:
            header = None
        pos += len(line)
    return units, deadlines


# -- per clause ----------------------------------------------------------------------------------


def extract_duties(
    document_id: str, text: str, clauses: list[Clause], *, plan_year: int | None
) -> tuple[list[Responsibility], list[Deadline]]:
    """The responsibilities and deadlines of each clause of a document (offsets into ``text``);
    a table row's cells count for the row's clause."""
    units, deadlines = table_duties(text, plan_year)
    in_tables = {(s, e) for *_, s, e in units}
    for clause in clauses:
        if clause.kind == "table_row":
            continue
        piece = text[clause.start : clause.end]
        units += [u for u in inline_units(piece, clause.start) if (u[2], u[3]) not in in_tables]
        deadlines += find_deadlines(piece, plan_year, clause.start)
    ordered = sorted(clauses, key=lambda c: c.start)
    starts = [c.start for c in ordered]
    reach = list(itertools.accumulate((c.end for c in ordered), max))  # the furthest end so far

    def clause_at(pos: int) -> Clause | None:
        """The first clause (in ``ordered``) holding ``pos``: the first whose end passes ``pos``
        is the first where ``reach`` does, if it starts at or before ``pos`` (bisection, not a scan)."""
        i = bisect.bisect_right(reach, pos)
        return ordered[i] if i < bisect.bisect_right(starts, pos) else None

    responsibilities, seen = [], set()
    for role, unit, start, end in sorted(units, key=lambda u: u[2]):
        clause = clause_at(start)
        if clause is None or (start, end) in seen:
            continue
        seen.add((start, end))
        responsibilities.append(
            Responsibility(clause.id, document_id, role, unit, normalize_unit(unit), start, end)
        )
    dated, seen = [], set()
    for date, precision, start, end in sorted(deadlines, key=lambda d: d[2]):
        clause = clause_at(start)
        if clause is None or (start, end) in seen:
            continue
        seen.add((start, end))
        dated.append(Deadline(clause.id, document_id, date, precision, text[start:end], start, end))
    return responsibilities, dated
