"""The build cache, the build lock and the clean-up of interrupted builds.

**Cache.** ``.policykb-cache/<kb.db name>.sqlite`` beside kb.db holds, per document, the rows
:func:`extractor.kb.store.document_rows` made of it (JSON, zlib-compressed), under a key of
everything those rows depend on (:func:`cache_key`): the file's sha256, its catalog entry, the
extraction rules' digest (:func:`extractor.kb.store.extractor_digest`: code and data files),
the schema version and the versions of jieba, OpenCC and spaCy. A rebuild after one document
changed extracts that one document; the corpus-wide steps (FTS vocabulary, trajectories,
similar clauses) are redone from the rows. An entry that cannot be decoded is ignored (the
document is extracted again); entries no longer used by the last build are dropped, so the
cache holds one corpus. ``policykb build --no-cache`` neither reads nor writes it; deleting the
folder is always safe.

**Catalog.** ``.policykb-cache/<kb.db name>.catalog.json`` keeps what PyYAML made of
catalog.yml, under the sha256 of its bytes: an unchanged catalog of 10,000 entries is read in
tens of ms instead of parsed in 2–2.5 s (the entries are validated again either way; see
:func:`extractor.read.catalog.load_catalog`).

**Lock.** ``.policykb-cache/<kb.db name>.lock`` is held (``flock``) for the whole build and
names the builder's PID: a second build of the same kb.db waits for the first. The kernel
drops the lock when its process dies, even by ``kill -9``.

**Clean-up.** A build killed before its ``os.replace`` leaves ``.kb.db.XXXX.tmp`` (and its
``-journal``) beside kb.db. Once a build holds the lock no other build is writing them, so it
removes them (:func:`remove_stale_files`).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import zlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from extractor.read.catalog import CatalogEntry
from extractor.sqlite import sqlite3

CACHE_DIR = ".policykb-cache"


@functools.cache  # importlib.metadata parses each package's METADATA: once a process, not per document
def versions() -> str:
    """``jieba=…,opencc=…,rjieba=…,spacy=…``: the library versions the rows depend on (rjieba:
    most of the FTS tokens)."""
    out = []
    for name in ("jieba", "opencc", "rjieba", "spacy"):
        try:
            out.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            out.append(f"{name}=?")
    return ",".join(out)


def cache_key(entry: CatalogEntry, rules_digest: str, data: bytes | None = None) -> str:
    """The key of one document's rows: file bytes (``data``, read if not given), catalog entry,
    rules, schema, libraries."""
    from extractor.kb.store import SCHEMA_VERSION

    h = hashlib.sha256()
    h.update(hashlib.sha256(entry.path.read_bytes() if data is None else data).digest())
    h.update(json.dumps(entry.meta(), sort_keys=True, ensure_ascii=False, default=str).encode())
    h.update(f"{rules_digest}\0{SCHEMA_VERSION}\0{versions()}".encode())
    return h.hexdigest()


def cache_dir(db_path: Path) -> Path:
    return Path(db_path).resolve().parent / CACHE_DIR


def catalog_cache_path(db_path: Path) -> Path:
    """Where the build keeps what PyYAML made of catalog.yml (``load_catalog(parsed_cache=)``)."""
    return cache_dir(db_path) / f"{Path(db_path).name}.catalog.json"


class BuildCache:
    """Rows of documents by :func:`cache_key` in an SQLite file (one writer: the build's main
    process)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = self._open()
        except sqlite3.DatabaseError:  # not a database (a corrupt file): start again
            self.path.unlink(missing_ok=True)
            self.conn = self._open()
        self.pending = 0

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path)
        conn.execute("create table if not exists documents (key text primary key, rows blob not null)")
        conn.commit()
        return conn

    @classmethod
    def beside(cls, db_path: Path) -> BuildCache:
        return cls(cache_dir(db_path) / f"{Path(db_path).name}.sqlite")

    def has(self, key: str) -> bool:
        return self.conn.execute("select 1 from documents where key = ?", [key]).fetchone() is not None

    def get(self, key: str) -> dict | None:
        """The rows stored under ``key``; None when absent or undecodable (then dropped)."""
        row = self.conn.execute("select rows from documents where key = ?", [key]).fetchone()
        if row is None:
            return None
        try:
            rows = json.loads(zlib.decompress(row[0]))
            if not isinstance(rows, dict) or not {"tables", "clause_tokens", "target_tokens"} <= rows.keys():
                raise ValueError("not a document's rows")
            return rows
        except (zlib.error, ValueError, TypeError, UnicodeDecodeError):
            self.conn.execute("delete from documents where key = ?", [key])
            return None

    def put(self, key: str, rows: dict) -> None:
        # compact JSON at zlib's fastest level: half the main process's time of the default
        # level 6 for a sixth more bytes (the cache is written on every document of a cold build)
        blob = zlib.compress(json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode(), 1)
        self.conn.execute("insert or replace into documents (key, rows) values (?, ?)", [key, blob])
        self.pending += 1
        if self.pending >= 100:
            self.conn.commit()
            self.pending = 0

    def keep(self, keys: set[str]) -> None:
        """Drop every entry whose key is not in ``keys`` (the documents of this build)."""
        stored = [k for (k,) in self.conn.execute("select key from documents")]
        self.conn.executemany("delete from documents where key = ?", [(k,) for k in stored if k not in keys])

    def close(self) -> None:
        self.conn.commit()
        self.conn.close()


def similar_index_path(db_path: Path) -> Path:
    """``.policykb-cache/<kb.db name>.similar.npz``: the similar-clauses index of the last build
    (:class:`extractor.kb.similar.SimilarIndex`; a rebuild updates it instead of vectorizing
    every clause). Deleting it is safe: the next build computes the table whole."""
    return cache_dir(db_path) / f"{Path(db_path).name}.similar.npz"


class BuildLock:
    """``flock`` on ``.policykb-cache/<name>.lock`` for the duration of a build."""

    def __init__(self, db_path: Path):
        self.path = cache_dir(db_path) / f"{Path(db_path).name}.lock"
        self.fd: int | None = None

    def __enter__(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)  # waits while another build of this kb.db runs
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()}\n".encode())
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def stale_files(db_path: Path) -> list[Path]:
    """The temporary files of interrupted builds of ``db_path``: ``.kb.db.*.tmp`` and their
    ``-journal``/``-wal``/``-shm``."""
    db_path = Path(db_path)
    found = []
    for suffix in (".tmp", ".tmp-journal", ".tmp-wal", ".tmp-shm"):
        found += db_path.parent.glob(f".{db_path.name}.*{suffix}")
    index_tmp = similar_index_path(db_path).with_name(similar_index_path(db_path).name + ".tmp")
    if index_tmp.exists():
        found.append(index_tmp)
    return sorted(set(found))


def remove_stale_files(db_path: Path) -> list[Path]:
    """Remove :func:`stale_files` (call while holding the :class:`BuildLock`)."""
    removed = []
    for path in stale_files(db_path):
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:
            pass
    return removed
