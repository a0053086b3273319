"""The SQLite library every connection of policy-kb comes from.

``pysqlite3`` (the ``pysqlite3-binary`` wheel: Python's sqlite3 module built on a recent
SQLite, 3.51 today) where it is installed, else Python's own ``sqlite3`` (SQLite 3.40 on
Debian 12). pyproject.toml installs the wheel where it exists (Linux on x86-64). Datasette
and sqlite-utils make the same choice (each imports pysqlite3 first), so a build's and a
served site's connections, ours, sqlite-utils' and Datasette's, all come from one library:

- an exception is caught as the class it is (``sqlite3.OperationalError`` of the library that
  raised it);
- no file is opened by two SQLite libraries in one process, which SQLite warns corrupts
  databases: POSIX locks belong to the process, so closing one library's connection drops the
  locks the other holds (https://www.sqlite.org/howtocorrupt.html, section 2.2.1).

Why a newer SQLite: FTS5's bm25 ranks the search page's matches 25-33 % faster on 3.51 than
on 3.40 (bench/README.md); kb.db's file format is the same, and either SQLite reads it.

    from extractor.sqlite import sqlite3
"""

from __future__ import annotations

try:
    from pysqlite3 import dbapi2 as sqlite3
except ImportError:  # no wheel for this platform: Python's own
    import sqlite3

__all__ = ["sqlite3"]
