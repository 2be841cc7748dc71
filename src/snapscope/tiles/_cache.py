"""A thread-safe, bytes-bounded LRU cache of tiles, shared by every pyramid in the process."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any

import numpy as np

__all__ = ["TileCache", "default_cache", "DEFAULT_CACHE_BYTES"]

#: Size of :func:`default_cache`: 192 MiB, so a 20k × 20k mosaic stays within its
#: 300 MB memory budget even after a full-resolution pan over all of it.
DEFAULT_CACHE_BYTES = 192 * 2**20


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return 64


class TileCache:
    """Least-recently-used cache bounded by the bytes of the arrays it holds.

    Keys are any hashable; values are arrays (or tuples of arrays), counted by ``nbytes``.
    A value bigger than the whole cache is returned but not kept. All methods are safe to
    call from several threads; :meth:`get_or_compute` also makes concurrent requests for the
    same missing key wait for one computation instead of repeating it.

    Parameters
    ----------
    max_bytes : int
        Upper bound of the summed ``nbytes`` of the cached values.
    """

    def __init__(self, max_bytes: int) -> None:
        if int(max_bytes) < 0:
            raise ValueError(f"max_bytes must be ≥ 0, not {max_bytes}")
        self._max_bytes = int(max_bytes)
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._pending: dict[Hashable, Future] = {}
        self._nbytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = self.evictions = 0

    def __repr__(self) -> str:
        return (
            f"TileCache({len(self)} entries, {self.nbytes / 2**20:.1f} of "
            f"{self.max_bytes / 2**20:.1f} MiB)"
        )

    @property
    def max_bytes(self) -> int:
        """The bound, in bytes; setting it evicts at once down to the new bound."""
        return self._max_bytes

    @max_bytes.setter
    def max_bytes(self, value: int) -> None:
        if int(value) < 0:
            raise ValueError(f"max_bytes must be ≥ 0, not {value}")
        with self._lock:
            self._max_bytes = int(value)
            self._evict(0)

    @property
    def nbytes(self) -> int:
        """Bytes held now (always ≤ :attr:`max_bytes`)."""
        return self._nbytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def get(self, key: Hashable, default: Any = None) -> Any:
        """Return the value cached under ``key`` (marking it recently used), else ``default``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return default
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: Hashable, value: Any) -> None:
        """Cache ``value`` under ``key``, evicting least-recently-used entries to make room."""
        with self._lock:
            self._store(key, value)

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Return the value under ``key``, computing and caching it if missing.

        While one thread computes, others asking for the same key wait for its result (or
        its exception) instead of computing it again.
        """
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[0]
            future = self._pending.get(key)
            owner = future is None
            if owner:
                self.misses += 1
                future = self._pending[key] = Future()
        if not owner:
            return future.result()
        try:
            value = compute()
        except BaseException as err:
            with self._lock:
                del self._pending[key]
            future.set_exception(err)
            raise
        with self._lock:
            del self._pending[key]
            self._store(key, value)
        future.set_result(value)
        return value

    def discard(self, key: Hashable) -> None:
        """Remove ``key`` if cached."""
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is not None:
                self._nbytes -= entry[1]

    def clear(self) -> None:
        """Remove every entry (computations in flight still finish and are cached)."""
        with self._lock:
            self._entries.clear()
            self._nbytes = 0

    def info(self) -> dict[str, int]:
        """Counters: entries, nbytes, max_bytes, hits, misses, evictions."""
        with self._lock:
            return {
                "entries": len(self._entries),
                "nbytes": self._nbytes,
                "max_bytes": self._max_bytes,
                "hits": self.hits,
                "misses": self.misses,
                "evictions": self.evictions,
            }

    def _store(self, key: Hashable, value: Any) -> None:
        size = _nbytes(value)
        old = self._entries.pop(key, None)
        if old is not None:
            self._nbytes -= old[1]
        if size > self._max_bytes:
            return
        self._evict(size)
        self._entries[key] = (value, size)
        self._nbytes += size

    def _evict(self, room: int) -> None:
        while self._entries and self._nbytes + room > self._max_bytes:
            _, (_, size) = self._entries.popitem(last=False)
            self._nbytes -= size
            self.evictions += 1


_default: TileCache | None = None
_default_lock = threading.Lock()


def default_cache() -> TileCache:
    """Return the process-wide :class:`TileCache` (created on first use, ``DEFAULT_CACHE_BYTES``).

    Every pyramid built without ``cache=`` uses it, so widgets showing the same image share
    tiles. Resize it with ``default_cache().max_bytes = n``.
    """
    global _default
    with _default_lock:
        if _default is None:
            _default = TileCache(DEFAULT_CACHE_BYTES)
        return _default
