"""The per-document work of a build, run in worker processes or on a Dask cluster.

:func:`run` takes catalog entries and yields ``(entry, rows)`` in the order given, ``rows``
being :func:`extractor.kb.store.document_rows` of the entry or the :class:`PolicyKBError` it
failed with. At most a bounded window of documents is in flight (submitted and not yet
consumed), so memory follows the work in flight, not the corpus.

- ``jobs`` worker processes (``concurrent.futures.ProcessPoolExecutor``; fork where the
  platform has it, so the workers start with what the main process has loaded). Each worker
  tells the main process when it starts a document; a document still running ``doc_timeout``
  seconds later is a :class:`DocumentTimeoutError`, its worker is killed (SIGKILL: it may be
  stuck in C code) and the pool restarted, the other documents in flight submitted again. A
  worker that dies (a crash, the OOM killer) does the same; a document in flight at two deaths
  is a :class:`WorkerDiedError`.
- ``scheduler`` (``tcp://host:8786``): the same function on a Dask cluster (the optional
  ``dask`` extra: ``distributed``). Its budget counts from when a document becomes the oldest
  one not yet consumed; a late document is cancelled (Dask cannot stop a running task's thread).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from extractor.errors import DocumentTimeoutError, PolicyKBError, SourceError, WorkerDiedError
from extractor.read.catalog import CatalogEntry

WINDOW_PER_JOB = 3  # documents in flight per worker


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
        cls = getattr(importlib.import_module(module), name, SourceError)
        try:
            return cls(reason, path=path, where=where)
        except TypeError:
            return SourceError(reason, path=path or entry.path, where=where)
    return value


_STARTED = None  # in a worker: the queue it reports the documents it starts on


def _init_worker(queue) -> None:
    global _STARTED
    _STARTED = queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle


def _work_reporting(index: int, entry: CatalogEntry):
    _STARTED.put((index, os.getpid(), time.monotonic()))
    return work(entry)


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


def _run_processes(entries, jobs, doc_timeout) -> Iterator[tuple[CatalogEntry, object]]:
    ctx = _context()
    queue = ctx.Queue()
    window = max(2, jobs * WINDOW_PER_JOB)
    todo = deque(range(len(entries)))
    futures: dict = {}  # future -> index
    done: dict[int, object] = {}  # index -> result, not yet yielded
    started: dict[int, tuple[int, float]] = {}  # index -> (pid, monotonic start)
    deaths: dict[int, int] = {}
    nxt = 0

    def new_pool():
        return ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker, initargs=(queue,))

    pool = new_pool()
    try:
        while nxt < len(entries):
            while todo and len(futures) + len(done) < window:
                i = todo.popleft()
                futures[pool.submit(_work_reporting, i, entries[i])] = i
            if nxt in done:
                yield entries[nxt], done.pop(nxt)
                nxt += 1
                continue
            finished, _ = wait(list(futures), timeout=0.2, return_when=FIRST_COMPLETED)
            while not queue.empty():
                try:
                    i, pid, t0 = queue.get_nowait()
                except Exception:
                    break
                started[i] = (pid, t0)
            broken = False
            for f in finished:
                i = futures.pop(f)
                try:
                    done[i] = _result(entries[i], f.result())
                    started.pop(i, None)
                except BrokenProcessPool:
                    futures[f] = i  # submitted again below
                    broken = True
            if doc_timeout:
                now = time.monotonic()
                running = set(futures.values())
                for i, (pid, t0) in list(started.items()):
                    if i in running and i not in done and now - t0 > doc_timeout:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGKILL)
                        done[i] = DocumentTimeoutError(
                            f"took longer than {doc_timeout:g} s (build --doc-timeout); left out",
                            path=entries[i].path,
                        )
                        started.pop(i)
                        broken = True
            if broken:
                pool = _restart(pool, new_pool)
                lost = sorted(i for i in futures.values() if i not in done)
                for i in lost:
                    if i in started:  # it was running when the worker died
                        deaths[i] = deaths.get(i, 0) + 1
                        if deaths[i] >= 2:
                            done[i] = WorkerDiedError(
                                "the worker extracting it died twice", path=entries[i].path
                            )
                futures.clear()
                started.clear()
                todo.extendleft(reversed([i for i in lost if i not in done]))
    finally:
        _shutdown(pool)


def _restart(pool, new_pool):
    _shutdown(pool)
    return new_pool()


def _shutdown(pool) -> None:
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:  # a worker still busy (or stuck) is not waited for
        if p.is_alive():
            p.kill()
    for p in processes:
        p.join(5)


def _run_dask(entries, scheduler, doc_timeout) -> Iterator[tuple[CatalogEntry, object]]:
    try:
        from distributed import Client
        from distributed import TimeoutError as DaskTimeout
    except ImportError as exc:
        raise PolicyKBError("--scheduler needs Dask: pip install 'policy-kb[dask]'") from exc

    client = Client(scheduler, set_as_default=False)
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
                value = DocumentTimeoutError(
                    f"took longer than {doc_timeout:g} s (build --doc-timeout); left out",
                    path=entries[i].path,
                )
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
