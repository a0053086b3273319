"""A bounded in-memory cache of whole responses, for a site that serves one immutable kb.db.

kb.db never changes while the server runs (it is opened immutable) and neither do the metadata
and the plugin's settings, so a GET answer depends only on its URL: the second request for a
page (the home page, a common search, a comparison) is answered from memory instead of running
its queries again. Only what is safe to share is kept: GET requests without a cookie or an
authorization header, answers 200 without a ``set-cookie``, at most ``max_item_bytes`` each and
``max_bytes`` in all (least recently used first out). Answers carry ``x-policykb-cache: hit``
or ``miss``. ``response_cache_mb: 0`` in the plugin's settings turns it off.

Concurrent requests for a page that is not kept yet are computed once: the first computes it,
the others wait for it and are answered from the cache (``x-policykb-cache: hit``), so a burst
of readers on a fresh server (or a fresh worker of ``--workers``) does not compute the same
page 32 times over. A waiter whose page was not kept (too big, not a 200) computes its own.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

CACHE_HEADER = b"x-policykb-cache"


class ResponseCache:
    def __init__(self, max_bytes: int, max_item_bytes: int = 2 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.max_item_bytes = max_item_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[tuple, tuple[int, list, bytes]] = OrderedDict()
        self._computing: dict[tuple, asyncio.Event] = {}  # keys being computed right now

    @staticmethod
    def key(scope) -> tuple | None:
        """The cache key of a request, None when it must not be cached."""
        if scope.get("type") != "http" or scope.get("method") != "GET":
            return None
        host = b""
        for name, value in scope.get("headers") or ():
            if name in (b"cookie", b"authorization"):
                return None
            if name == b"host":
                host = value
        return (
            scope.get("scheme"),
            host,
            scope.get("root_path", ""),
            scope["path"],
            scope.get("query_string"),
        )

    def get(self, key: tuple):
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: tuple, status: int, headers: list, body: bytes) -> None:
        if status != 200 or len(body) > self.max_item_bytes or len(body) > self.max_bytes:
            return
        if any(name.lower() == b"set-cookie" for name, _ in headers):
            return
        old = self._items.pop(key, None)
        if old is not None:
            self.size -= len(old[2])
        self._items[key] = (status, headers, body)
        self.size += len(body)
        while self.size > self.max_bytes:
            _, (_, _, dropped) = self._items.popitem(last=False)
            self.size -= len(dropped)

    def wrap(self, app):
        """An ASGI app that answers from the cache, else from ``app`` (keeping its answer)."""

        async def cached(scope, receive, send):
            key = self.key(scope)
            if key is None:
                await app(scope, receive, send)
                return
            item = self.get(key)
            if item is None and key in self._computing:  # another request is computing it
                await self._computing[key].wait()
                item = self.get(key)
            if item is not None:
                self.hits += 1
                status, headers, body = item
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [*headers, (CACHE_HEADER, b"hit")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            self.misses += 1
            computing = self._computing.get(key)
            if computing is None:
                computing = self._computing[key] = asyncio.Event()
            else:
                computing = None  # a waiter whose page was not kept: it computes its own
            start: dict = {}
            chunks: list[bytes] = []
            size = 0
            keep = True

            async def capture(message):
                nonlocal size, keep
                if message["type"] == "http.response.start":
                    start.update(message)
                    message = {**message, "headers": [*message.get("headers", []), (CACHE_HEADER, b"miss")]}
                elif message["type"] == "http.response.body" and keep:
                    body = message.get("body", b"")
                    size += len(body)
                    if size > self.max_item_bytes:
                        keep = False
                        chunks.clear()
                    else:
                        chunks.append(body)
                    if not message.get("more_body") and keep:
                        self.put(
                            key, start.get("status", 0), list(start.get("headers", [])), b"".join(chunks)
                        )
                await send(message)

            try:
                await app(scope, receive, capture)
            finally:
                if computing is not None:
                    del self._computing[key]
                    computing.set()

        return cached
