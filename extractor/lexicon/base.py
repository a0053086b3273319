"""Load and validate the lexicon data files in ``extractor/data/`` once.

A malformed file (missing key, duplicate id, unknown reference, a pattern that does not compile)
is a ``DataFileError`` naming the file and the entry, raised at load time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import regex
import yaml

from extractor.errors import DataFileError

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
CAMPAIGN_IDS = ("air", "water", "soil", "climate", "ecology", "noise", "waste", "radiation", "general")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate mapping keys (PyYAML silently keeps the last)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise DataFileError(
                f"duplicate key {key!r}", path=loader.name, where=f"line {key_node.start_mark.line + 1}"
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one data file with duplicate-key checking; the top level must be a mapping."""
    try:
        with path.open(encoding="utf-8") as fh:
            loader = _UniqueKeyLoader(fh)
            loader.name = str(path)
            try:
                data = loader.get_single_data()
            finally:
                loader.dispose()
    except OSError as exc:
        raise DataFileError(f"cannot read: {exc}", path=path) from exc
    except yaml.YAMLError as exc:
        raise DataFileError(f"invalid YAML: {exc}", path=path) from exc
    if not isinstance(data, dict):
        raise DataFileError("top level must be a mapping", path=path)
    return data


def load_data(name: str) -> dict[str, Any]:
    """Parse ``extractor/data/<name>``, rejecting duplicate keys."""
    return read_yaml(DATA_DIR / name)


@dataclass(frozen=True)
class Campaign:
    id: str
    name_zh: str
    name_en: str
    labels: tuple[str, ...]
    topic_labels: tuple[str, ...]
    lead_words: tuple[str, ...]
    keywords: tuple[str, ...]


@cache
def campaigns() -> tuple[Campaign, ...]:
    """The campaigns of ``data/campaigns.yml``, validated."""
    data = load_data("campaigns.yml")
    out, seen = [], set()
    for i, item in enumerate(data.get("campaigns") or []):
        where = f"campaigns[{i}]"
        try:
            cid = item["id"]
            campaign = Campaign(
                cid,
                item["name_zh"],
                item["name_en"],
                tuple(item.get("labels") or ()),
                tuple(item.get("topic_labels") or ()),
                tuple(item.get("lead_words") or ()),
                tuple(item.get("keywords") or ()),
            )
        except (KeyError, TypeError) as exc:
            raise DataFileError(f"{where}: missing field {exc}", path="extractor/data/campaigns.yml") from exc
        if cid not in CAMPAIGN_IDS:
            raise DataFileError(f"{where}: unknown campaign id {cid!r}", path="extractor/data/campaigns.yml")
        if cid in seen:
            raise DataFileError(
                f"{where}: duplicate campaign id {cid!r}", path="extractor/data/campaigns.yml"
            )
        seen.add(cid)
        out.append(campaign)
    return tuple(out)


@dataclass(frozen=True)
class HeadingRule:
    name: str
    rank: int
    kind: str
    pattern: regex.Pattern


@dataclass(frozen=True)
class Headings:
    rules: tuple[HeadingRule, ...]
    max_heading_chars: int
    leads: tuple[regex.Pattern, ...]
    enumerations: tuple[tuple[str, regex.Pattern], ...]


@cache
def headings() -> Headings:
    """Heading, lead and enumeration patterns of ``data/headings.yml``, compiled."""
    data = load_data("headings.yml")
    pieces = data.get("pieces") or {}
    path = "extractor/data/headings.yml"

    def compile_(where: str, pattern: str) -> regex.Pattern:
        try:
            return regex.compile(pattern.format(**pieces))
        except (KeyError, IndexError, regex.error) as exc:
            raise DataFileError(f"{where}: bad pattern {pattern!r}: {exc}", path=path) from exc

    rules, names = [], set()
    for i, item in enumerate(data["headings"]):
        if item["name"] in names:
            raise DataFileError(f"headings[{i}]: duplicate name {item['name']!r}", path=path)
        names.add(item["name"])
        pat = compile_(f"headings[{i}]", item["pattern"])
        if not {"num", "title"} <= set(pat.groupindex):
            raise DataFileError(f"headings[{i}]: pattern needs groups num and title", path=path)
        rules.append(HeadingRule(item["name"], int(item["rank"]), item["kind"], pat))
    boundary = data["boundary"]
    enums = tuple(
        (e["name"], compile_(f"enumerations.{e['name']}", boundary + e["pattern"]))
        for e in data["enumerations"]
    )
    leads = tuple(compile_(f"leads[{i}]", p) for i, p in enumerate(data["leads"]))
    return Headings(tuple(rules), int(data["max_heading_chars"]), leads, enums)


@cache
def t2s_converter():
    """OpenCC's traditional -> simplified converter (character for character), built once."""
    import opencc

    return opencc.OpenCC("t2s")


@cache
def _jieba_default_dictionary() -> tuple[dict[str, int], int]:
    """jieba's default prefix dictionary and total, read once a process (1.4–1.9 s: the marshal
    cache of 500,000 entries). Never modified."""
    import jieba

    jieba.setLogLevel(60)
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok.FREQ, tok.total


def share_jieba_dictionary(tok, *, copy: bool) -> None:
    """Make ``tok`` (a ``jieba.Tokenizer`` on the default dictionary) load that dictionary from
    the one read in this process instead of reading it again: the build's workers use two
    tokenizers (``jieba.dt``, to which extraction adds its indicator terms, and the search
    index's own, never modified), and read the file once. ``copy``: the tokenizer gets its own
    copy of the dictionary (it will be changed, ``jieba.add_word``); else it shares it."""
    import jieba

    if tok.initialized or tok.dictionary != jieba.DEFAULT_DICT or "initialize" in vars(tok):
        return
    original = tok.initialize

    def initialize(dictionary=None):
        if dictionary or tok.initialized or tok.dictionary != jieba.DEFAULT_DICT:
            return original(dictionary)
        with tok.lock:
            if not tok.initialized:
                freq, total = _jieba_default_dictionary()
                tok.FREQ, tok.total = (dict(freq) if copy else freq), total
                tok.initialized = True

    tok.initialize = initialize
