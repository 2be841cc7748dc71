"""Peak memory of this process and of local worker processes during a block (Linux ``/proc``).

Two figures, both in MB above the value at the start of the block:

* **peak RSS** (``VmHWM``, reset at the start by writing ``5`` to ``/proc/<pid>/clear_refs``):
  everything resident, including the pages of memory-mapped files that were touched. Batch work
  maps its images, so this counts the page cache of the open files (bounded by
  ``snapscope.image``'s open-file limit, 256 files), not only what the program allocated.
* **peak anonymous memory** (``RssAnon``, sampled every 10 ms by a thread, for this process):
  what the program allocated (Python objects, numpy arrays), without the mapped files.

Worker processes are given by pid (they run on this machine): their peak RSS is read the same
way. Elsewhere than Linux the figures are None.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

__all__ = ["Peak", "status_mb"]


def status_mb(field: str, pid: int | str = "self") -> float | None:
    """A ``/proc/<pid>/status`` field (e.g. ``VmRSS``) in MB, None where there is none."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak(pid: int | str) -> None:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


class Peak:
    """Context manager measuring peak memory of this process and of ``pids`` (module docstring).

    Attributes (after the block)
    ----------------------------
    rss, anon : float or None
        This process's peak RSS and peak anonymous memory, MB above the start.
    workers : list of float or None
        Each pid's peak RSS, MB above its RSS at the start.
    """

    def __init__(self, pids: Iterable[int] = ()) -> None:
        self.pids = list(pids)
        self.rss: float | None = None
        self.anon: float | None = None
        self.workers: list[float | None] = []

    def __enter__(self) -> Peak:
        for pid in ["self", *self.pids]:
            _reset_peak(pid)
        self._start = {pid: status_mb("VmRSS", pid) for pid in ["self", *self.pids]}
        self._anon0 = status_mb("RssAnon")
        self._anon_max = self._anon0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self._sample_once()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample_once()
        self.rss = self._above("self")
        self.anon = None if self._anon0 is None else self._anon_max - self._anon0
        self.workers = [self._above(pid) for pid in self.pids]

    def _sample_once(self) -> None:
        anon = status_mb("RssAnon")
        if anon is not None and self._anon_max is not None:
            self._anon_max = max(self._anon_max, anon)

    def _above(self, pid: int | str) -> float | None:
        peak, start = status_mb("VmHWM", pid), self._start[pid]
        return None if peak is None or start is None else peak - start

    def describe(self) -> str:
        """``"peak RSS +x MB (anonymous +y MB); workers +a, +b MB"``."""
        def mb(v: float | None) -> str:
            return "n/a" if v is None else f"+{max(v, 0.0):.0f}"

        text = f"peak RSS {mb(self.rss)} MB (anonymous {mb(self.anon)} MB)"
        if self.workers:
            text += "; workers' peak RSS " + ", ".join(mb(w) for w in self.workers) + " MB"
        return text
