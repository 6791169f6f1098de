"""Which row of an uploaded file first named each record: the one piece of state a bulk import
keeps across its chunks (a later row with the same key is rejected, pointing at the first).

Up to ``IN_MEMORY_KEYS`` keys live in a dict; past that they move to a temporary SQLite file
with a small page cache, so that a file of any size is imported in bounded memory (a dict holds
about 120 bytes a key: 70 MiB for a 600,000-row, 100 MB file).
"""

from __future__ import annotations

import sqlite3
from types import TracebackType
from typing import Self

IN_MEMORY_KEYS = 20_000
CACHE_KIB = 2_048


class FirstRows:
    """``claim(key, row)`` → the first row that named ``key``: ``row`` itself the first time.
    Use it as a context manager (the temporary file is removed on exit). Not thread-safe."""

    def __init__(self, in_memory_keys: int | None = None) -> None:
        self._limit = IN_MEMORY_KEYS if in_memory_keys is None else in_memory_keys
        self._memory: dict[str, int] = {}
        self._disk: sqlite3.Connection | None = None

    def claim(self, key: str, row: int) -> int:
        if self._disk is None:
            first = self._memory.setdefault(key, row)
            if len(self._memory) > self._limit:
                self._spill()
            return first
        inserted = self._disk.execute(
            "INSERT INTO first_rows VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, row)
        )
        if inserted.rowcount:
            return row
        found = self._disk.execute("SELECT row FROM first_rows WHERE key = ?", (key,)).fetchone()
        return int(found[0])

    @property
    def on_disk(self) -> bool:
        return self._disk is not None

    def _spill(self) -> None:
        # "": a private temporary database file, deleted when the connection closes
        disk = sqlite3.connect("", isolation_level=None)
        disk.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        disk.execute("PRAGMA journal_mode = OFF")
        disk.execute("PRAGMA synchronous = OFF")
        disk.execute("CREATE TABLE first_rows (key TEXT PRIMARY KEY, row INTEGER NOT NULL)")
        disk.execute("BEGIN")  # one transaction for the whole import: nothing to keep anyway
        disk.executemany("INSERT INTO first_rows VALUES (?, ?)", self._memory.items())
        self._memory = {}
        self._disk = disk

    def close(self) -> None:
        if self._disk is not None:
            self._disk.close()
            self._disk = None
        self._memory = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
