"""Random (version 4) UUIDs drawn from a pool of ``os.urandom`` bytes.

``uuid.uuid4()`` makes one ``getrandom`` system call per id, and each call releases the GIL: a
bulk import makes four ids a row while its parser runs in a worker thread, so every id could
wait for that thread's switch interval. The pool makes one call per 256 ids; the bytes are the
same kernel randomness. A forked child starts with an empty pool (never its parent's ids).
"""

from __future__ import annotations

import os
import threading
import uuid

POOL_IDS = 256
_SIZE = 16 * POOL_IDS

_lock = threading.Lock()
_pool = b""
_offset = _SIZE


def uuid4() -> uuid.UUID:
    global _pool, _offset
    with _lock:
        if _offset >= _SIZE:
            _pool = os.urandom(_SIZE)
            _offset = 0
        start = _offset
        _offset += 16
        value = int.from_bytes(_pool[start : start + 16])
    return uuid.UUID(int=value, version=4)


def _forget_pool() -> None:
    global _pool, _offset
    _pool, _offset = b"", _SIZE


os.register_at_fork(after_in_child=_forget_pool)
