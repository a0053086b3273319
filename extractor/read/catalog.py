"""The corpus catalog (``corpus/catalog.yml``): one entry per document, validated strictly.

A mistake (unknown or missing field, duplicate id or file, a file that does not exist, a bad
year or date) is a ``CatalogError`` that names the entry and what is wrong, and stops the build
before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import regex
import yaml

from extractor.errors import CatalogError

GENRES = ("规划", "行动计划", "政策解读", "起草说明", "问答解读", "工作总结", "公报", "新闻发布")
REQUIRED = ("id", "file", "district", "district_slug", "city", "year", "genre", "title")
OPTIONAL = ("issuer", "doc_number", "published", "plan_title", "source_url", "notes")
_SLUG = regex.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_YEAR = regex.compile(r"(?P<start>(?:19|20)\d\d)(?:\s*[-–~至]\s*(?P<end>(?:19|20)\d\d))?")


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    file: str
    path: Path
    district: str
    district_slug: str
    city: str
    year: int
    year_end: int | None
    genre: str
    title: str
    issuer: str | None = None
    doc_number: str | None = None
    published: str | None = None
    plan_title: str | None = None
    source_url: str | None = None
    notes: str | None = None

    def meta(self) -> dict:
        """Catalog fields for the ``documents`` row (everything but the path)."""
        return {k: v for k, v in self.__dict__.items() if k != "path"}


class _Resolver:
    """``Path.resolve()`` of many files in few folders: each folder is resolved once, and a file
    in it is the resolved folder joined with its name, unless the file is itself a link (one
    ``lstat``; a link is resolved in full). The same paths as ``resolve()``: a name that is not
    a link (nor ``..``) resolves to itself. (``resolve()`` walks every component of every path:
    at 10,000 entries about a second of each build.)"""

    def __init__(self) -> None:
        self._folders: dict[Path, Path] = {}

    def __call__(self, path: Path) -> Path:
        if path.name in ("", "..") or path.is_symlink():
            return path.resolve()
        folder = self._folders.get(path.parent)
        if folder is None:
            folder = self._folders[path.parent] = path.parent.resolve()
        return folder / path.name


def _entry(
    raw: object, index: int, corpus_dir: Path, catalog: Path, root: Path, resolve: _Resolver
) -> CatalogEntry:
    """One validated entry; ``root`` is ``corpus_dir`` resolved (once for the whole catalog)."""
    name = raw.get("id") if isinstance(raw, dict) else None
    where = f"entry {index + 1}" + (f" ({name})" if name else "")

    def fail(reason: str) -> CatalogError:
        return CatalogError(reason, path=catalog, where=where)

    if not isinstance(raw, dict):
        raise fail("an entry must be a mapping of fields")
    unknown = sorted(set(raw) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise fail(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(REQUIRED + OPTIONAL)}")
    missing = [k for k in REQUIRED if raw.get(k) in (None, "")]
    if missing:
        raise fail(f"missing required field(s): {', '.join(missing)}")
    if not _SLUG.fullmatch(str(raw["id"])):
        raise fail(f"id {raw['id']!r} is not a slug (lowercase letters, digits and hyphens)")
    if not _SLUG.fullmatch(str(raw["district_slug"])):
        raise fail(f"district_slug {raw['district_slug']!r} is not a slug")
    year = _YEAR.fullmatch(str(raw["year"]).strip())
    if not year:
        raise fail(f"year {raw['year']!r} is not a year (2024) or a span (2021-2025)")
    start, end = int(year["start"]), int(year["end"]) if year["end"] else None
    if end is not None and end < start:
        raise fail(f"year span {raw['year']!r} ends before it starts")
    if raw["genre"] not in GENRES:
        raise fail(f"genre {raw['genre']!r} is not one of {', '.join(GENRES)}")
    published = raw.get("published")
    if published is not None:
        if isinstance(published, dt.date):
            published = published.isoformat()
        try:
            dt.date.fromisoformat(str(published))
        except ValueError:
            raise fail(f"published {published!r} is not a date (YYYY-MM-DD)") from None
    try:
        path = resolve(corpus_dir / str(raw["file"]))
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise fail(f"file {raw['file']!r} cannot be resolved ({exc})") from None
    if not path.is_relative_to(root):
        raise fail(
            f"file {raw['file']!r} is outside the corpus directory {corpus_dir}: only files inside it are read"
        )
    try:
        mode = path.stat().st_mode  # (once: is_dir and is_file would stat it twice)
    except OSError:
        mode = 0
    if stat.S_ISDIR(mode):
        raise fail(f"file {raw['file']!r} is a directory, not a document")
    if not stat.S_ISREG(mode):
        raise fail(f"file {raw['file']!r} does not exist in {corpus_dir}")
    opt = {k: (str(raw[k]) if raw.get(k) is not None else None) for k in OPTIONAL}
    opt["published"] = published
    return CatalogEntry(
        id=str(raw["id"]),
        file=str(raw["file"]),
        path=path,
        district=str(raw["district"]),
        district_slug=str(raw["district_slug"]),
        city=str(raw["city"]),
        year=start,
        year_end=end,
        genre=str(raw["genre"]),
        title=str(raw["title"]),
        **opt,
    )


def load_catalog(corpus_dir: str | Path, parsed_cache: Path | None = None) -> list[CatalogEntry]:
    """Read and validate ``<corpus_dir>/catalog.yml``; entries sorted by id.

    ``parsed_cache``: a JSON file that keeps what PyYAML made of the catalog's bytes (the build
    cache's ``<kb.db name>.catalog.json``): while the catalog is unchanged it is read instead of
    parsing the YAML again (10,000 entries: 2–2.5 s of PyYAML, most of it making Python objects
    even with libyaml; JSON takes a few tens of ms). The entries are validated either way, so a
    file that went missing is still an error."""
    corpus_dir = Path(corpus_dir)
    catalog = corpus_dir / "catalog.yml"
    if not catalog.is_file():
        raise CatalogError("no catalog.yml in the corpus directory", path=catalog)
    try:
        data = _parsed(catalog, parsed_cache)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError(f"not valid YAML: {exc}", path=catalog) from exc
    except ValueError as exc:  # PyYAML reads 2024-02-30 as a date and fails: "day is out of range"
        raise CatalogError(
            f"a value is not a valid date ({exc}); dates are YYYY-MM-DD", path=catalog
        ) from exc
    if not isinstance(data, dict) or set(data) != {"documents"} or not isinstance(data["documents"], list):
        raise CatalogError(
            "the catalog must be a mapping with one key, documents: a list of entries", path=catalog
        )
    if not data["documents"]:
        raise CatalogError("the catalog lists no documents", path=catalog)
    root = corpus_dir.resolve()
    resolve = _Resolver()
    entries = [_entry(raw, i, corpus_dir, catalog, root, resolve) for i, raw in enumerate(data["documents"])]
    for key in ("id", "path"):
        seen: dict[object, int] = {}
        for i, e in enumerate(entries):
            value = getattr(e, key)
            if value in seen:
                shown = e.file if key == "path" else value
                raise CatalogError(
                    f"duplicate {'file' if key == 'path' else key} {shown!r} (also entry {seen[value] + 1})",
                    path=catalog,
                    where=f"entry {i + 1} ({e.id})",
                )
            seen[value] = i
    return sorted(entries, key=lambda e: e.id)


def _parsed(catalog: Path, cache: Path | None):
    """What PyYAML makes of ``catalog`` (read from ``cache`` when it holds these bytes' parse)."""
    raw = catalog.read_bytes()
    key = f"{hashlib.sha256(raw).hexdigest()} PyYAML {yaml.__version__}"
    if cache is not None:
        try:
            stored = json.loads(cache.read_text(encoding="utf-8"), object_hook=_from_json)
            if isinstance(stored, dict) and stored.get("key") == key:
                return stored["data"]
        except (OSError, ValueError, KeyError, TypeError):
            pass  # missing, unreadable or damaged: parse the YAML
    # libyaml's parser when PyYAML has it: a catalog of 10,000 entries parses in about 2-2.5 s,
    # not 10-25 s (same SafeConstructor, so the same values and errors)
    data = yaml.load(raw.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if cache is not None:
        _store(cache, key, data)
    return data


def _to_json(value):
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    raise TypeError(f"not kept: {type(value).__name__}")


def _from_json(obj: dict):
    if len(obj) == 1 and "$date" in obj:
        return dt.date.fromisoformat(obj["$date"])
    if len(obj) == 1 and "$datetime" in obj:
        return dt.datetime.fromisoformat(obj["$datetime"])
    return obj


def _store(cache: Path, key: str, data) -> None:
    """Keep ``data`` in ``cache`` if JSON gives it back exactly (else, e.g. a number as a mapping
    key or a YAML set, it is not kept); written whole or not at all, never an error."""
    try:
        text = json.dumps({"key": key, "data": data}, ensure_ascii=False, default=_to_json)
        if json.loads(text, object_hook=_from_json)["data"] != data:
            return
        cache.parent.mkdir(parents=True, exist_ok=True)
        for left in cache.parent.glob(f".{cache.name}.*.tmp"):  # of a write that was killed
            left.unlink(missing_ok=True)
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, cache)
    except (OSError, TypeError, ValueError):
        pass


def unlisted_files(corpus_dir: str | Path, entries: list[CatalogEntry]) -> list[Path]:
    """Readable documents in ``corpus_dir`` that no catalog entry names (probably forgotten)."""
    from extractor.read.text import SUPPORTED_SUFFIXES

    listed = {e.path for e in entries}
    resolve = _Resolver()
    return sorted(
        p
        for p in Path(corpus_dir).rglob("*")
        if p.suffix.lower() in SUPPORTED_SUFFIXES and resolve(p) not in listed
    )
