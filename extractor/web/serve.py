"""``policykb serve``: (re)build kb.db when the corpus changed, then run Datasette on it.

The database is opened immutable (``datasette -i kb.db``): read-only, no locking, and Datasette
can count rows once. kb.db is rebuilt only when a corpus catalog (``corpus/catalog.yml``) is
there and the database is missing or stale; without a catalog the given kb.db is served as it
is. The plugin (package :mod:`extractor.web`) brings the table descriptions, facets and canned
queries; a metadata.yml (the working directory's, else the repository's, if any) adds the
site's title, description and licence.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import yaml

from extractor.errors import ServeError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_METADATA = REPO_ROOT / "metadata.yml"
DEFAULT_SETTINGS: dict[str, Any] = {
    "default_page_size": 50,
    "sql_time_limit_ms": 3000,
    "allow_download": True,
    "truncate_cells_html": 300,  # long clause texts in table pages; exports stay complete
    # a table page's facets: each within 100 ms (then Datasette shows it as timed out), and no
    # "suggested facets" (one trial query per column on every table page: most of its time)
    "facet_time_limit_ms": 100,
    "suggest_facets": False,
}
# `policykb serve --locked`: no arbitrary SQL (/kb?sql=..., the SQL editor; the site's pages,
# tables and canned queries still answer) and no download of kb.db itself (/kb.db)
LOCKED_SETTINGS: dict[str, Any] = {"default_allow_sql": False, "allow_download": False}
_TRUE = ("on", "true", "1", "yes")
_FALSE = ("off", "false", "0", "no")


def parse_settings(pairs) -> dict[str, Any]:
    """Datasette settings from ``(name, value)`` strings (``policykb serve --setting NAME
    VALUE``), typed as Datasette's own ``--setting`` types them (on/off, integers); a
    :class:`ServeError` names an unknown setting or a value of the wrong type."""
    from datasette.app import DEFAULT_SETTINGS as DATASETTE_SETTINGS

    out: dict[str, Any] = {}
    for name, value in pairs:
        if name not in DATASETTE_SETTINGS:
            known = ", ".join(sorted(DATASETTE_SETTINGS))
            raise ServeError(f"unknown Datasette setting {name!r} (known: {known})", where="--setting")
        default = DATASETTE_SETTINGS[name]
        text = str(value).strip()
        if isinstance(default, bool):
            if text.lower() not in _TRUE + _FALSE:
                raise ServeError(f"{name} takes on or off, not {value!r}", where="--setting")
            out[name] = text.lower() in _TRUE
        elif isinstance(default, int):
            if not text.isdigit():
                raise ServeError(f"{name} takes a whole number, not {value!r}", where="--setting")
            out[name] = int(text)
        else:
            out[name] = text
    return out


def has_catalog(corpus_dir: str | os.PathLike) -> bool:
    """True when ``corpus_dir`` holds a catalog.yml to build kb.db from."""
    return (Path(corpus_dir) / "catalog.yml").is_file()


def ensure_db(db_path: str | os.PathLike, corpus_dir: str | os.PathLike):
    """Build ``db_path`` from ``corpus_dir`` if it is missing or older than the corpus.

    Returns the ``BuildReport`` if it was (re)built, else None. Without a catalog in
    ``corpus_dir`` an existing ``db_path`` is left as it is (None) and a missing one raises
    :class:`ServeError`. Raises the store's errors (``PolicyKBError``) unchanged.
    """
    db_path = Path(db_path)
    if not has_catalog(corpus_dir):
        if db_path.is_file():
            return None
        raise ServeError(
            f"no such knowledge base, and no {Path(corpus_dir) / 'catalog.yml'} to build it from"
            " (run `policykb build` or give --db)",
            path=db_path,
        )
    from extractor.kb import store  # imported late so the web layer stays light

    if db_path.exists() and not store.is_stale(db_path, corpus_dir):
        return None
    return store.build_db(corpus_dir, db_path)


def load_metadata(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """The site's metadata.yml as a dict (``{}`` if there is none: the package's site.yml
    still describes kb.db)."""
    if path is None:  # the working directory's metadata.yml, else the repository's
        path = Path("metadata.yml") if Path("metadata.yml").exists() else DEFAULT_METADATA
    path = Path(path)
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def make_datasette(
    db_path: str | os.PathLike,
    metadata_path: str | os.PathLike | None = None,
    settings: dict[str, Any] | None = None,
):
    """A Datasette instance serving ``db_path`` immutably with our metadata and settings.

    Datasette names the database after the file stem; metadata.yml configures ``kb``, so the
    file should be called ``kb.db``.
    """
    import importlib

    from datasette.app import Datasette

    # Datasette prints every exception, each 404 included, as a screenful of rich traceback
    # when rich is installed (spaCy installs it): a second per 404 and a buried log. Without it
    # a 404 is just the error page, and a 500 still prints its plain traceback.
    # (imported after datasette.app, which registers Datasette's own hooks from that module)
    importlib.import_module("datasette.handle_exception").rich = None
    inspected = inspect_data(db_path)
    ds = Datasette(
        immutables=[str(db_path)],
        metadata=load_metadata(metadata_path),
        settings={**DEFAULT_SETTINGS, **(settings or {})},
        inspect_data=inspected,
    )
    from extractor.web.immutable import make_database

    for name in list(ds.databases):  # its schema read once (it cannot change while served)
        make_database(ds, name)
    if inspected:
        name = next(iter(inspected))
        if name in ds.databases:  # the file's sha256 replaces the version key once it is read
            threading.Thread(
                target=_read_in_background, args=(ds.databases[name], db_path, inspected[name]), daemon=True
            ).start()
    return ds


def _read_in_background(db, db_path: str | os.PathLike, inspected: dict[str, Any]) -> None:
    """The file's sha256 (:func:`_hash_in_background`), then each view's row count
    (:func:`count_views`) into the inspect data Datasette reads a page's count from."""
    _hash_in_background(db, db_path)
    # a new dict in place of the old one (a reader iterating the old one never sees it change)
    inspected["tables"] = {**inspected["tables"], **count_views(db_path)}


def _hash_in_background(db, db_path: str | os.PathLike) -> None:
    import hashlib

    digest = hashlib.sha256()
    try:
        with open(db_path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)  # hashlib lets other threads run meanwhile
    except OSError:
        return
    db.cached_hash = digest.hexdigest()


def count_views(db_path: str | os.PathLike) -> dict[str, dict[str, int]]:
    """Each view's row count in the immutable file, as the inspect data holds a table's
    (``{view: {"count": n}}``; empty if the file cannot be read). Datasette takes a page's row
    count from the inspect data when the page has no filter, for a view as for a table;
    otherwise it counts the view on every visit: at 10,000 documents 1.1 s for
    ``clause_context``, 1.4 s for ``target_citations`` and 0.4 s for ``indicator_coverage``
    (1,340,000 rows; 2.8 s before it read ``coverage_cells``). :func:`make_datasette` counts them in a thread
    after start-up, so a view's first visits may still count it; ``ImmutableDatabase.table_counts``
    keeps them out of the table lists."""
    from extractor.sqlite import sqlite3

    counts: dict[str, dict[str, int]] = {}
    try:
        conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?immutable=1", uri=True)
    except sqlite3.Error:
        return counts
    try:
        views = [
            n for (n,) in conn.execute("select name from sqlite_master where type = 'view' order by name")
        ]
        for name in views:
            counts[name] = {"count": conn.execute(f"select count(*) from [{name}]").fetchone()[0]}
    except sqlite3.Error:  # (a view whose SQL this SQLite cannot run: Datasette counts it as it would)
        pass
    finally:
        conn.close()
    return counts


def inspect_data(db_path: str | os.PathLike) -> dict[str, Any] | None:
    """What ``datasette inspect`` writes for an immutable file, made at start-up: each table's
    row count, the file's size and a version key. Without it Datasette counts every table on
    the first index page (0.3–0.5 s at 10,000 documents) and computes the sha256 of the whole file for the index page's colour and the download's ETag
    (2.4–2.9 s for a 1.9 GB kb.db, in the event loop, on the first visitor's request: every
    other request waits). The version key stands in for that sha256 until
    :func:`make_datasette`'s thread has read the file (``/-/databases.json`` then gives the
    sha256 ``sha256sum kb.db`` prints): the file's path, size, modification time and inode,
    which any rebuild changes. None when the file cannot be read (Datasette then reports it as
    it would)."""
    import hashlib

    from extractor.sqlite import sqlite3

    path = Path(db_path).resolve()
    try:
        stat = path.stat()
        conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            names = [n for (n,) in conn.execute("select name from sqlite_master where type = 'table'")]
            tables = {}
            for name in names:
                try:
                    tables[name] = {"count": conn.execute(f"select count(*) from [{name}]").fetchone()[0]}
                except sqlite3.Error:  # a virtual table whose module this SQLite lacks
                    continue
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return None
    version = hashlib.sha256(f"{path}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ino}".encode()).hexdigest()
    return {Path(db_path).stem: {"hash": version, "size": stat.st_size, "file": path.name, "tables": tables}}


def check_knowledge_base(db_path: str | os.PathLike) -> None:
    """A ServeError unless ``db_path`` is an SQLite database with policy-kb's tables."""
    from extractor.sqlite import sqlite3

    try:
        conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
        try:
            tables = {name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ServeError(f"not an SQLite database ({exc})", path=db_path) from None
    if not {"documents", "clauses", "targets"} <= tables:
        raise ServeError(
            "not a policy-kb knowledge base (no documents, clauses and targets tables)", path=db_path
        )


def serve(
    db_path: str | os.PathLike = "kb.db",
    corpus_dir: str | os.PathLike = "corpus",
    host: str = "127.0.0.1",
    port: int = 8001,
    *,
    metadata_path: str | os.PathLike | None = None,
    build: bool = True,
    settings: dict[str, Any] | None = None,
    workers: int = 1,
    echo=print,
) -> None:
    """Build kb.db if needed (``build=False`` skips the check), then serve it until interrupted;
    ``settings`` are Datasette settings over :data:`DEFAULT_SETTINGS` (:func:`parse_settings`,
    :data:`LOCKED_SETTINGS`). ``workers`` > 1 serves it from that many processes
    (:func:`worker_app`): one asyncio process uses about one core."""
    import asyncio

    import uvicorn

    if build:
        if not has_catalog(corpus_dir) and Path(db_path).is_file():
            echo(f"no {Path(corpus_dir) / 'catalog.yml'}: serving {db_path} as it is (not rebuilt)")
        report = ensure_db(db_path, corpus_dir)
        if report is not None:
            echo(f"built {db_path}: {len(report.documents)} documents")
            for err in report.errors:
                echo(f"error: {err} (left out)")
    if not Path(db_path).is_file():
        raise ServeError("no such knowledge base (run `policykb build`)", path=db_path)
    check_knowledge_base(db_path)
    if workers > 1:
        # each worker process imports the app factory and opens kb.db itself (read-only,
        # immutable); uvicorn's supervisor shares the socket and replaces a worker that dies
        load_metadata(metadata_path)  # a broken metadata.yml fails here, not in every worker
        os.environ[WORKER_CONFIG] = json.dumps(
            {
                "db_path": str(Path(db_path).resolve()),
                "metadata_path": str(Path(metadata_path).resolve()) if metadata_path else None,
                "settings": settings or {},
            }
        )
        echo(
            f"policy-kb: serving {db_path} at http://{host}:{port}/ with {workers} worker processes"
            "  (Ctrl+C to stop)"
        )
        run_workers(host, port, workers)
        return
    ds = make_datasette(db_path, metadata_path, settings)
    echo(f"policy-kb: serving {db_path} at http://{host}:{port}/  (Ctrl+C to stop)")
    asyncio.run(ds.invoke_startup())
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning")


def run_workers(host: str, port: int, workers: int) -> None:
    """uvicorn's supervisor with ``workers`` processes of :func:`worker_app` on one socket,
    until interrupted: a worker that dies is replaced; one whose start-up fails (a kb.db it
    cannot open ...) stops the server, and this raises :class:`ServeError` (exit code 1)."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        f"{__name__}:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        lifespan="on",  # a worker whose start-up fails exits instead of serving errors
        log_level="warning",
    )
    sock = _listening_socket(host, port)
    supervisor = Multiprocess(config, sockets=[sock])
    try:
        supervisor.run()
    finally:
        sock.close()
    failed = [p.pid for p in supervisor.processes if p.exitcode == STARTUP_FAILURE]
    if failed:
        raise ServeError(
            f"worker process {failed[0]} failed to start (its error is above); the server stopped",
            where="--workers",
        )


def _listening_socket(host: str, port: int):
    """The socket the workers share. Made with ``IPPROTO_TCP`` (uvicorn's own ``bind_socket``
    passes protocol 0): asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets that
    say they are TCP, and without it every keep-alive answer written as headers, then body
    waited 40 ms for the client's delayed ACK."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port} ({exc.strerror or exc})", where="--port") from None
    sock.set_inheritable(True)
    return sock


WORKER_CONFIG = "POLICYKB_SERVE_CONFIG"  # what `serve(workers=N)` hands its worker processes
WORKER_HEADER = b"x-policykb-worker"  # the process that answered (its pid), with --workers


def worker_app():
    """The ASGI app of one worker process of ``policykb serve --workers N`` (a uvicorn app
    factory): a Datasette on the kb.db, metadata and settings named in the environment variable
    :data:`WORKER_CONFIG`. Its start-up hooks (jieba's dictionary) and the immutable database's
    table counts run when the worker starts (the ASGI lifespan), before it takes requests;
    each answer names the worker in ``x-policykb-worker`` (its pid). Each worker keeps its own
    response cache (kb.db never changes, so every worker answers the same)."""
    config = json.loads(os.environ[WORKER_CONFIG])
    ds = make_datasette(config["db_path"], config["metadata_path"], config["settings"])
    inner = ds.app()
    pid = str(os.getpid()).encode()

    async def start() -> None:
        await ds.invoke_startup()
        for database in ds.databases.values():
            if not database.is_mutable:
                await database.table_counts(limit=60 * 60 * 1000)

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await start()
            await inner(scope, receive, send)
            return

        async def named(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (WORKER_HEADER, pid)]}
            await send(message)

        await inner(scope, receive, named)

    return app
