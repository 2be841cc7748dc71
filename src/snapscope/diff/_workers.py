"""How many threads difference work uses when ``workers`` is not given.

Decision
--------
Difference work runs on threads by default, unlike the rest of ``snapscope.batch`` (whose
cutouts and forced photometry hold the GIL and run fastest in the calling thread). About half
of the time of a difference and its photometry is spent in ``reproject``'s compiled resampler
and ``scipy.ndimage``, which release the GIL, so a second thread overlaps one epoch's
resampling with another epoch's photutils fit. Measured with ``benchmarks/difference.py``
(100 epochs and a 10-epoch reference, 2 cores, machine otherwise quiet): 2.7 s in the calling
thread, 1.9 s with 2 threads. When other jobs keep every core busy the threads neither gain
nor lose measurably. The GIL-held half bounds the gain (Amdahl: at most 2× however many
threads), so the default is ``min(4, cores)``; ``workers=1`` runs in the calling thread.
"""

from __future__ import annotations

import os

__all__ = ["default_workers"]


def default_workers() -> int:
    """Threads used by difference work when ``workers`` is not given: ``min(4, cores)``."""
    return max(1, min(4, os.cpu_count() or 1))
