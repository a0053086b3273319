"""Load and validate the data files of the quantity and target extractors, once.

``units.yml`` (units and magnitude words), ``comparators.yml``, ``statements.yml`` (kind, year
and qualifier cues) and ``indicators.yml`` live in ``extractor/data/``. Each loader is cached with
``functools.cache``; a malformed file (duplicate key, duplicate form, unknown reference, bad
pattern) raises :class:`~extractor.errors.DataFileError` naming the file and the entry.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import regex

from extractor.errors import DataFileError
from extractor.lexicon.base import CAMPAIGN_IDS as CAMPAIGNS
from extractor.lexicon.base import read_yaml, t2s_converter

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
COMPARATORS = ("<=", ">=", "~", "=", "<", ">")


@functools.cache
def _s2t_converters() -> tuple:
    import opencc

    return tuple(opencc.OpenCC(cfg) for cfg in ("s2t", "s2tw", "s2hk"))


def to_simplified(text: str) -> str:
    """OpenCC t2s (1:1 in length for the characters we meet)."""
    return t2s_converter().convert(text)


def variants(form: str) -> set[str]:
    """A simplified form and its traditional spellings (吨 -> 噸, 条 -> 條)."""
    return {form} | {conv.convert(form) for conv in _s2t_converters()}


def compile_pattern(pattern: str, path: Path, where: str) -> regex.Pattern:
    try:
        return regex.compile(pattern)
    except regex.error as exc:
        raise DataFileError(f"bad pattern {pattern!r}: {exc}", path=path, where=where) from exc


# --------------------------------------------------------------------------------------- units


@dataclass(frozen=True)
class Unit:
    id: str
    canonical: str
    dimension: str
    factor: float
    magnitude: bool  # may take a magnitude word (万吨)
    contextual: bool = False  # a quantity only after a contextual head (为期3年)


@dataclass(frozen=True)
class UnitLexicon:
    units: dict[str, Unit]
    forms: dict[str, Unit]  # every written form (simplified and traditional) -> unit
    magnitudes: dict[str, float]  # 万 -> 1e4, and traditional 萬
    approx_before: tuple[str, ...]
    approx_middle: tuple[str, ...]
    approx_after: tuple[str, ...]
    per_prefixes: dict[str, str]  # 每月 -> 月
    blocked_words: tuple[str, ...]  # 3部门: a one-character unit that starts a word is no unit
    bare_heads: tuple[str, ...] = ()  # words after which a bare number is a value (besides comparators)
    bare_after: tuple[str, ...] = ()  # words that may follow a bare value (的, 之间, 以上…)
    bare_range_heads: tuple[str, ...] = ()  # 在 … 之间
    contextual_heads: tuple[str, ...] = ()  # 为期, 期限为…: where a contextual unit (年) states a period

    @functools.cached_property
    def literal_heads(self) -> tuple[str, ...] | None:
        """The contextual heads as the periods pattern's lookbehind reads them, when that is the
        words as written (no '/' or '·', which the pattern widens to their look-alikes); else
        None. Kept on the lexicon: find_quantities asks on every line."""
        heads = self.contextual_heads
        return None if not heads or any(c in h for h in heads for c in "/·") else heads

    def lookup(self, written: str) -> tuple[Unit, float] | None:
        """(unit, magnitude factor) for a unit as written (万吨 -> (tonne, 1e4)); None if unknown."""
        text = to_simplified(written.replace(" ", "").replace("\u3000", ""))
        if text in self.forms:
            return self.forms[text], 1.0
        for mag in sorted(self.magnitudes, key=len, reverse=True):
            rest = text[len(mag) :]
            if text.startswith(mag) and rest in self.forms and self.forms[rest].magnitude:
                return self.forms[rest], self.magnitudes[mag]
        return None

    def canonical_of(self, written: str) -> tuple[str, float] | None:
        """(canonical unit, factor) of a unit as written; ("", 1) for a bare number."""
        if not written:
            return "", 1.0
        found = self.lookup(written)
        if found is None:
            return None
        unit, mag = found
        return unit.canonical, unit.factor * mag


def _str_list(data: dict, key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataFileError(f"{key!r} must be a list of strings", path=path)
    return tuple(value)


@functools.cache
def load_units(path: Path = DATA_DIR / "units.yml") -> UnitLexicon:
    """Load units.yml: units, their forms (with traditional variants), magnitudes, approximations."""
    data = read_yaml(path)
    units: dict[str, Unit] = {}
    forms: dict[str, Unit] = {}
    for n, entry in enumerate(data.get("units") or []):
        where = f"units[{n}]"
        try:
            unit = Unit(
                id=str(entry["id"]),
                canonical=str(entry["canonical"]),
                dimension=str(entry["dimension"]),
                factor=float(entry["factor"]),
                magnitude=bool(entry.get("magnitude", True)),
                contextual=bool(entry.get("contextual", False)),
            )
            written = [str(f) for f in entry["forms"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise DataFileError(
                f"unit entry needs id, forms, canonical, dimension, factor ({exc})", path=path, where=where
            ) from exc
        if unit.id in units:
            raise DataFileError(f"duplicate unit id {unit.id!r}", path=path, where=where)
        units[unit.id] = unit
        for form in written:
            for variant in variants(form):
                if variant in forms and forms[variant].id != unit.id:
                    raise DataFileError(
                        f"form {variant!r} of {unit.id!r} already belongs to {forms[variant].id!r}",
                        path=path,
                        where=where,
                    )
                forms[variant] = unit
    magnitudes: dict[str, float] = {}
    for word, mult in (data.get("magnitudes") or {}).items():
        for variant in variants(str(word)):
            magnitudes[variant] = float(mult)
    approx = data.get("approximations") or {}
    per = {str(k): str(v) for k, v in (data.get("per_prefixes") or {}).items()}
    return UnitLexicon(
        units=units,
        forms=forms,
        magnitudes=magnitudes,
        approx_before=_str_list(approx, "before", path),
        approx_middle=_str_list(approx, "middle", path),
        approx_after=_str_list(approx, "after", path),
        per_prefixes=per,
        blocked_words=tuple(sorted({v for w in _str_list(data, "blocked_words", path) for v in variants(w)})),
        bare_heads=_str_list(data, "bare_heads", path),
        bare_after=_str_list(data, "bare_after", path),
        bare_range_heads=_str_list(data, "bare_range_heads", path),
        contextual_heads=_str_list(data, "contextual_heads", path),
    )


# --------------------------------------------------------------------------------- comparators


@dataclass(frozen=True)
class ComparatorLexicon:
    symbols: dict[str, str]
    after: dict[str, str]
    before: dict[str, str]
    before_patterns: tuple[tuple[regex.Pattern, str], ...]
    approx: dict[str, str]
    not_comparators: tuple[str, ...] = ()  # 履约, 节约, 附近…: longest first

    def mask(self, text: str) -> str:
        """``text`` with every not-comparator word blanked out (same length: offsets hold)."""
        for word in self.not_comparators:
            if word in text:
                text = text.replace(word, "□" * len(word))
        return text

    def ends_word(self, text: str, end: int, word: str) -> bool:
        """Whether ``word``, ending at ``end`` of ``text``, is the tail of a not-comparator word
        there (节约 for the 约 of 节约5万吨)."""
        return any(text.endswith(w, 0, end) for w in self._by_suffix.get(word, ()))

    @functools.cached_property
    def _by_suffix(self) -> dict[str, tuple[str, ...]]:
        """Each proper tail of a not-comparator word -> the words it ends (约 -> 节约, 履约…),
        made once: the check runs for every comparator word before a number."""
        out: dict[str, list[str]] = {}
        for w in self.not_comparators:
            for i in range(1, len(w)):
                out.setdefault(w[i:], []).append(w)
        return {tail: tuple(words) for tail, words in out.items()}


def _comparator_map(data: dict, key: str, path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for word, comp in (data.get(key) or {}).items():
        if comp not in COMPARATORS:
            raise DataFileError(f"unknown comparator {comp!r} for {word!r}", path=path, where=key)
        for variant in variants(str(word)):
            out[variant] = comp
    return out


@functools.cache
def load_comparators(path: Path = DATA_DIR / "comparators.yml") -> ComparatorLexicon:
    """Load comparators.yml; every value must be one of <=, >=, ~, =, <, >."""
    data = read_yaml(path)
    patterns = []
    for n, entry in enumerate(data.get("before_patterns") or []):
        comp = entry.get("comparator")
        if comp not in COMPARATORS:
            raise DataFileError(f"unknown comparator {comp!r}", path=path, where=f"before_patterns[{n}]")
        patterns.append((compile_pattern(entry["pattern"], path, f"before_patterns[{n}]"), comp))
    return ComparatorLexicon(
        symbols=_comparator_map(data, "symbols", path),
        after=_comparator_map(data, "after", path),
        before=_comparator_map(data, "before", path),
        before_patterns=tuple(patterns),
        approx=_comparator_map(data, "approx", path),
        not_comparators=tuple(
            sorted(
                {v for w in _str_list(data, "not_comparators", path) for v in variants(w)},
                key=len,
                reverse=True,
            )
        ),
    )


# ---------------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class StatementCues:
    review_headings: tuple[str, ...]
    base_year_patterns: tuple[regex.Pattern, ...]
    relative_base_years: dict[str, int]
    dated_year: regex.Pattern
    actual_cues: tuple[str, ...]
    target_cues: tuple[str, ...]
    report_genres: tuple[str, ...]
    report_titles: dict[str, str]
    future_cues: tuple[str, ...]
    stock_verbs: tuple[str, ...]
    stock_not_after: tuple[str, ...]
    duration_window_words: tuple[str, ...]
    window_goal_verbs: tuple[str, ...]
    scope_nouns: tuple[str, ...]
    scope_units: tuple[str, ...]
    scope_frames: tuple[regex.Pattern, ...]
    scope_share_words: tuple[str, ...]
    plan_subject: regex.Pattern
    list_reference: regex.Pattern
    list_nouns: tuple[str, ...]
    plan_reach_verbs: tuple[str, ...]
    coverage: regex.Pattern
    skip_lines: tuple[regex.Pattern, ...]
    condition_stop: tuple[str, ...]
    object_verbs: tuple[str, ...]
    attain_verbs: tuple[str, ...]
    condition_length_words: tuple[str, ...]
    condition_range_words: tuple[str, ...]
    definition_headings: tuple[str, ...]
    definition: regex.Pattern
    qualifiers: tuple[str, ...]


YEARLESS_PATTERNS = ("scope_frames", "skip_lines")


@functools.cache
def load_statements(path: Path = DATA_DIR / "statements.yml") -> StatementCues:
    """Load statements.yml (kind, year, base year and qualifier cues)."""
    data = read_yaml(path)

    def patterns(key: str) -> tuple[regex.Pattern, ...]:
        out = []
        for n, pat in enumerate(_str_list(data, key, path)):
            compiled = compile_pattern(pat, path, f"{key}[{n}]")
            if key not in YEARLESS_PATTERNS and "year" not in compiled.groupindex:
                raise DataFileError("pattern needs a named group 'year'", path=path, where=f"{key}[{n}]")
            out.append(compiled)
        return tuple(out)

    rel = {str(k): int(v) for k, v in (data.get("relative_base_years") or {}).items()}
    genres = _str_list(data, "report_genres", path)
    for word, genre in (data.get("report_titles") or {}).items():
        if genre not in genres:
            raise DataFileError(f"report_titles: {word!r} names unknown genre {genre!r}", path=path)
    return StatementCues(
        review_headings=_str_list(data, "review_headings", path),
        base_year_patterns=patterns("base_year_patterns"),
        relative_base_years=rel,
        dated_year=compile_pattern(str(data.get("dated_year_pattern")), path, "dated_year_pattern"),
        actual_cues=_str_list(data, "actual_cues", path),
        target_cues=_str_list(data, "target_cues", path),
        report_genres=_str_list(data, "report_genres", path),
        report_titles={str(k): str(v) for k, v in (data.get("report_titles") or {}).items()},
        future_cues=_str_list(data, "future_cues", path),
        stock_verbs=_str_list(data, "stock_verbs", path),
        stock_not_after=_str_list(data, "stock_not_after", path),
        duration_window_words=_str_list(data, "duration_window_words", path),
        window_goal_verbs=_str_list(data, "window_goal_verbs", path),
        scope_nouns=_str_list(data, "scope_nouns", path),
        scope_units=_str_list(data, "scope_units", path),
        scope_frames=patterns("scope_frames"),
        scope_share_words=_str_list(data, "scope_share_words", path),
        plan_subject=compile_pattern(str(data.get("plan_subject") or "(?!)"), path, "plan_subject"),
        list_reference=compile_pattern(str(data.get("list_reference") or "(?!)"), path, "list_reference"),
        list_nouns=_str_list(data, "list_nouns", path),
        plan_reach_verbs=_str_list(data, "plan_reach_verbs", path),
        coverage=compile_pattern(str(data.get("coverage_pattern", "$^")), path, "coverage_pattern"),
        skip_lines=patterns("skip_lines"),
        condition_stop=_str_list(data, "condition_stop", path),
        object_verbs=_str_list(data, "object_verbs", path),
        attain_verbs=_str_list(data, "attain_verbs", path),
        condition_length_words=_str_list(data, "condition_length_words", path),
        condition_range_words=_str_list(data, "condition_range_words", path),
        definition_headings=_str_list(data, "definition_headings", path),
        definition=compile_pattern(str(data.get("definition_pattern") or "(?!)"), path, "definition_pattern"),
        qualifiers=_str_list(data, "qualifiers", path),
    )


# ---------------------------------------------------------------------------------- indicators


@dataclass(frozen=True)
class Indicator:
    id: str
    name_zh: str
    name_en: str
    campaign: str
    canonical_unit: str | None
    dimension: str | None
    description: str
    terms: tuple[str, ...] = field(default=())
    family: str | None = None  # indicators of one subject in different units (cod: 万吨, %)
    direction: str | None = None  # lower | higher: which way is better (the direction block)

    def to_row(self) -> dict[str, Any]:
        """A row of the kb.db ``indicators`` table."""
        return {
            "id": self.id,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "campaign": self.campaign,
            "canonical_unit": self.canonical_unit,
            "dimension": self.dimension,
            "description": self.description,
        }


@dataclass(frozen=True)
class IndicatorLexicon:
    indicators: dict[str, Indicator]
    heads: tuple[str, ...]  # head nouns shared by a list (年均浓度, 平均值, 减排量)
    families: dict[str, tuple[str, ...]] = field(default_factory=dict)  # family -> ids, in file order
    goal_after: tuple[str, ...] = ()  # goal wordings after their subject: 达到市级要求, 稳步提升
    goal_before: tuple[str, ...] = ()  # … before their object: 消除 (劣V类水体)
    goal_broad: tuple[str, ...] = ()  # subjects too broad for a goal in words: 空气质量
    directions: dict[str, str] = field(default_factory=dict)  # indicator id -> lower | higher (better)


@functools.cache
def load_indicators(path: Path = DATA_DIR / "indicators.yml") -> IndicatorLexicon:
    """Load indicators.yml; campaigns and canonical units must be known, terms unique."""
    data = read_yaml(path)
    units = load_units()
    canonicals = {u.canonical for u in units.units.values()} | {""}
    indicators: dict[str, Indicator] = {}
    seen_terms: dict[str, str] = {}
    for n, entry in enumerate(data.get("indicators") or []):
        where = f"indicators[{n}]"
        try:
            ind = Indicator(
                id=str(entry["id"]),
                name_zh=str(entry["name_zh"]),
                name_en=str(entry.get("name_en", "")),
                campaign=str(entry["campaign"]),
                canonical_unit=entry.get("canonical_unit"),
                dimension=entry.get("dimension"),
                description=str(entry.get("description", "")),
                terms=tuple(str(t) for t in entry.get("terms", [])),
                family=entry.get("family"),
            )
        except (KeyError, TypeError) as exc:
            raise DataFileError(
                f"indicator needs id, name_zh, campaign ({exc})", path=path, where=where
            ) from exc
        if ind.id in indicators:
            raise DataFileError(f"duplicate indicator id {ind.id!r}", path=path, where=where)
        if ind.campaign not in CAMPAIGNS:
            raise DataFileError(f"unknown campaign {ind.campaign!r}", path=path, where=where)
        if "direction" in entry:
            raise DataFileError(
                "direction goes in the direction block, not on an indicator", path=path, where=where
            )
        if ind.canonical_unit is not None and ind.canonical_unit not in canonicals:
            raise DataFileError(f"unknown canonical unit {ind.canonical_unit!r}", path=path, where=where)
        for term in (ind.name_zh, *ind.terms):
            if seen_terms.get(term, ind.id) != ind.id:
                raise DataFileError(
                    f"term {term!r} of {ind.id!r} already belongs to {seen_terms[term]!r}",
                    path=path,
                    where=where,
                )
            seen_terms[term] = ind.id
        indicators[ind.id] = ind
    families: dict[str, tuple[str, ...]] = {}
    for ind in indicators.values():
        if ind.family:
            families[ind.family] = (*families.get(ind.family, ()), ind.id)
    for family, members in families.items():
        dims = [indicators[i].dimension for i in members]
        if len(members) < 2 or None in dims:
            raise DataFileError(
                f"family {family!r} needs two or more members, each of one dimension", path=path
            )
    goals = data.get("qualitative") or {}
    directions: dict[str, str] = {}
    for way in ("lower", "higher"):
        for iid in _str_list(data.get("direction") or {}, way, path):
            if iid not in indicators or iid in directions:
                raise DataFileError(f"direction {way}: unknown or repeated indicator {iid!r}", path=path)
            directions[iid] = way
    indicators = {i: replace(ind, direction=directions.get(i)) for i, ind in indicators.items()}
    return IndicatorLexicon(
        indicators=indicators,
        heads=_str_list(data, "heads", path),
        families=families,
        goal_after=_str_list(goals, "after", path),
        goal_before=_str_list(goals, "before", path),
        goal_broad=_str_list(goals, "broad", path),
        directions=directions,
    )
