"""``data/time.yml`` loaded and validated once: named pattern pieces, plan periods, date lines,
time expressions and the modality/aspect cues with their weights."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import regex

from extractor.errors import DataFileError
from extractor.lexicon.base import read_yaml
from extractor.lexicon.cues import DATA_DIR, compile_pattern

_REFERENCE = regex.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Cue:
    """A modality or aspect cue: a pattern and its weight."""

    kind: str  # "target" | "actual"
    pattern: regex.Pattern
    weight: int


@dataclass(frozen=True)
class TimeLexicon:
    periods: dict[str, tuple[int, int]]
    period: regex.Pattern  # a plan period name, group "period"
    date_lines: tuple[regex.Pattern, ...]
    report_words: regex.Pattern
    report_scope: int
    report_window: int
    opening_date: regex.Pattern
    opening_lines: int
    horizon: tuple[regex.Pattern, ...]
    since: tuple[regex.Pattern, ...]
    relative: dict[str, int]
    relative_pattern: regex.Pattern  # any relative word, longest first, group "word"
    before: tuple[str, ...]
    cues: tuple[Cue, ...]
    target_after: regex.Pattern
    pieces: dict[str, str]

    def period_years(self, name: str) -> tuple[int, int]:
        """The years of a plan period (“十一五” → (2006, 2010))."""
        return self.periods[name]

    def expand(self, pattern: str) -> str:
        """``pattern`` with its ``{piece}`` references replaced by the pieces they name."""
        return _expand(pattern, self.pieces, Path("time.yml"), "pattern")


def _expand(pattern: str, pieces: dict[str, str], path: Path, where: str, depth: int = 0) -> str:
    if depth > 10:
        raise DataFileError("pattern pieces refer to each other in a circle", path=path, where=where)

    def one(m: regex.Match) -> str:
        name = m.group(1)
        if name not in pieces:
            raise DataFileError(f"unknown pattern piece {{{name}}}", path=path, where=where)
        return "(?:" + _expand(pieces[name], pieces, path, f"pieces.{name}", depth + 1) + ")"

    return _REFERENCE.sub(one, pattern)


@functools.cache
def load_time(path: Path = DATA_DIR / "time.yml") -> TimeLexicon:
    """Load time.yml; an unknown piece, a bad pattern or a pattern without its group is an error."""
    data = read_yaml(path)
    pieces = {str(k): str(v) for k, v in (data.get("pieces") or {}).items()}

    def compiled(pattern: str, where: str, group: str | None = None) -> regex.Pattern:
        pat = compile_pattern(_expand(str(pattern), pieces, path, where), path, where)
        if group and group not in pat.groupindex:
            raise DataFileError(f"pattern needs a named group {group!r}", path=path, where=where)
        return pat

    def listed(key: str, group: str | None = None) -> tuple[regex.Pattern, ...]:
        values = data.get(key) or []
        if not isinstance(values, list) or not values:
            raise DataFileError(f"{key}: expected a non-empty list of patterns", path=path)
        return tuple(compiled(v, f"{key}[{n}]", group) for n, v in enumerate(values))

    periods = {}
    for name, span in (data.get("periods") or {}).items():
        if not (isinstance(span, list) and len(span) == 2 and all(isinstance(y, int) for y in span)):
            raise DataFileError(f"periods: {name!r} needs [first year, last year]", path=path)
        periods[str(name)] = (span[0], span[1])
    cues = []
    for kind, entries in (data.get("cues") or {}).items():
        if kind not in ("target", "actual"):
            raise DataFileError(f"cues: unknown kind {kind!r}", path=path)
        for n, entry in enumerate(entries):
            if not isinstance(entry, dict) or set(entry) != {"pattern", "weight"}:
                raise DataFileError("a cue is {pattern, weight}", path=path, where=f"cues.{kind}[{n}]")
            cues.append(Cue(kind, compiled(entry["pattern"], f"cues.{kind}[{n}]"), int(entry["weight"])))
    relative = {str(k): int(v) for k, v in (data.get("relative") or {}).items()}
    words = "|".join(regex.escape(w) for w in sorted(relative, key=len, reverse=True))
    report = data.get("report_subject") or {}
    opening = data.get("opening_date") or {}
    lexicon = TimeLexicon(
        periods=periods,
        period=compiled("{period}", "pieces.period", "period"),
        date_lines=listed("date_lines", "year"),
        report_words=compiled(str(report.get("words", "公报")), "report_subject.words"),
        report_scope=int(report.get("scope", 2)),
        report_window=int(report.get("window", 20)),
        opening_date=compiled(str(opening.get("pattern", "$^")), "opening_date.pattern"),
        opening_lines=int(opening.get("lines", 3)),
        horizon=listed("horizon", "year"),
        since=listed("since", "year"),
        relative=relative,
        relative_pattern=regex.compile(rf"(?P<word>{words})"),
        before=tuple(str(w) for w in data.get("before") or ()),
        cues=tuple(cues),
        target_after=compiled(str(data.get("target_after", "$^")), "target_after"),
        pieces=pieces,
    )
    return lexicon
