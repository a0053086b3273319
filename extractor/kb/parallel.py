"""The per-document work of a build, run in worker processes or on a Dask cluster.

:func:`run` takes catalog entries and yields ``(entry, rows)`` in the order given, ``rows``
being :func:`extractor.kb.store.document_rows` of the entry or the :class:`PolicyKBError` it
failed with. At most a bounded window of documents is in flight (submitted and not yet
consumed), so memory follows the work in flight, not the corpus.

- ``jobs`` worker processes (a ``pebble.ProcessPool``; fork where the platform has it, so the
  workers start with what the main process has loaded). A document still running
  ``doc_timeout`` seconds after its worker took it is a :class:`DocumentTimeoutError`: pebble
  kills that worker (it may be stuck in C code) and starts another; the documents of the other
  workers go on. A document whose worker dies (a crash, the OOM killer) is a
  :class:`WorkerDiedError`.
- ``scheduler`` (``tcp://host:8786``): the same function on a Dask cluster (the optional
  ``dask`` extra: ``distributed``). Its budget counts from when a document becomes the oldest
  one not yet consumed; a late document is cancelled (Dask cannot stop a running task's thread).
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path

from extractor.errors import DocumentTimeoutError, PolicyKBError, SourceError, WorkerDiedError
from extractor.read.catalog import CatalogEntry

WINDOW_PER_JOB = 3  # documents in flight per worker
DASK_CONNECT_TIMEOUT = 10  # seconds to reach a --scheduler before the build gives up


def work(entry: CatalogEntry):
    """One document's rows, or its error as plain data (exceptions with keyword-only arguments
    do not survive pickling)."""
    from extractor.kb import store

    try:
        return store.document_rows(entry)
    except PolicyKBError as exc:
        return ("error", type(exc).__module__, type(exc).__name__, exc.reason, exc.path, exc.where)
    except Exception as exc:  # a reader or parser bug must not sink the other documents
        return (
            "error",
            SourceError.__module__,
            "SourceError",
            f"unexpected {type(exc).__name__}: {exc}",
            str(entry.path),
            None,
        )


def _result(entry: CatalogEntry, value):
    if isinstance(value, tuple) and value and value[0] == "error":
        import importlib

        _, module, name, reason, path, where = value
        path = Path(path) if path else entry.path
        cls = getattr(importlib.import_module(module), name, SourceError)
        try:
            return cls(reason, path=path, where=where)
        except TypeError:
            return SourceError(reason, path=path, where=where)
    return value


def _init_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def run(
    entries: Sequence[CatalogEntry],
    *,
    jobs: int = 1,
    doc_timeout: float | None = None,
    scheduler: str | None = None,
) -> Iterator[tuple[CatalogEntry, object]]:
    """``(entry, rows or error)`` for each entry, in order (see the module doc)."""
    if not entries:
        return iter(())
    if scheduler:
        return _run_dask(entries, scheduler, doc_timeout)
    return _run_processes(entries, max(1, jobs), doc_timeout)


def _late(entry: CatalogEntry, doc_timeout: float) -> DocumentTimeoutError:
    return DocumentTimeoutError(
        f"took longer than {doc_timeout:g} s (build --doc-timeout); left out", path=entry.path
    )


def _run_processes(entries, jobs, doc_timeout) -> Iterator[tuple[CatalogEntry, object]]:
    from pebble import ProcessExpired, ProcessPool

    window = max(2, jobs * WINDOW_PER_JOB)
    pool = ProcessPool(max_workers=jobs, context=_context(), initializer=_init_worker)
    pending: deque = deque()
    todo = iter(range(len(entries)))

    def submit(i: int) -> None:
        pending.append((i, pool.schedule(work, args=[entries[i]], timeout=doc_timeout)))

    finished = False
    try:
        for i in todo:
            submit(i)
            if len(pending) >= window:
                break
        while pending:
            i, future = pending.popleft()
            try:
                value = _result(entries[i], future.result())
            except TimeoutError:  # pebble killed the worker and started another
                value = _late(entries[i], doc_timeout)
            except ProcessExpired as exc:
                value = WorkerDiedError(
                    f"the worker extracting it died (exit code {exc.exitcode}: a crash or the OOM killer)",
                    path=entries[i].path,
                )
            nxt = next(todo, None)
            if nxt is not None:
                submit(nxt)
            yield entries[i], value
        finished = True
    finally:
        if finished:
            # every document is done: the idle workers are stopped in a thread (pebble
            # terminates and joins each, about a second at 10,000 documents) while the build goes
            # on; the build waits for it before it returns (wait_closed)
            pool.close()
            closing = threading.Thread(target=pool.join, kwargs={"timeout": 10}, daemon=True)
            closing.start()
            _CLOSING.append(closing)
        else:  # the build stopped (an error, Ctrl-C): stop the workers, do not wait for them
            pool.stop()
            pool.join(timeout=10)


_CLOSING: list[threading.Thread] = []  # pools of finished runs being joined (_run_processes)


def wait_closed(timeout: float = 10) -> None:
    """Wait for the pools of finished runs to be joined (their workers gone): a build calls it
    before it returns, so it leaves no process behind, while its corpus-wide steps did not wait."""
    while _CLOSING:
        _CLOSING.pop().join(timeout)


def _run_dask(entries, scheduler, doc_timeout) -> Iterator[tuple[CatalogEntry, object]]:
    try:
        from distributed import Client
        from distributed import TimeoutError as DaskTimeout
    except ImportError as exc:
        raise PolicyKBError("--scheduler needs Dask: pip install 'policy-kb[dask]'") from exc

    try:
        client = Client(scheduler, set_as_default=False, timeout=DASK_CONNECT_TIMEOUT)
    except (OSError, DaskTimeout, TimeoutError, ValueError) as exc:
        raise PolicyKBError(
            f"cannot reach the Dask scheduler at {scheduler} within {DASK_CONNECT_TIMEOUT} s"
            f" ({type(exc).__name__}: {exc})"
        ) from None
    try:
        threads = sum(client.nthreads().values()) or 1
        window = max(2, threads * WINDOW_PER_JOB)
        futures: deque = deque()
        it = iter(range(len(entries)))
        for i in it:
            futures.append((i, client.submit(work, entries[i], pure=False)))
            if len(futures) >= window:
                break
        while futures:
            i, fut = futures.popleft()
            try:
                value = _result(entries[i], fut.result(timeout=doc_timeout))
            except (DaskTimeout, TimeoutError):
                fut.cancel()
                value = _late(entries[i], doc_timeout)
            except Exception as exc:  # the worker died or the task could not run
                value = WorkerDiedError(
                    f"the Dask task failed: {type(exc).__name__}: {exc}", path=entries[i].path
                )
            nxt = next(it, None)
            if nxt is not None:
                futures.append((nxt, client.submit(work, entries[nxt], pure=False)))
            yield entries[i], value
    finally:
        client.close()
