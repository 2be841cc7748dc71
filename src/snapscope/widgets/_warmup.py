"""Import the photometry stack in the background when a photometry widget is created.

The first measurement in a new kernel spent ~0.8 s of its ~1.3 s importing: photutils'
aperture and PSF modules, ``scipy.optimize`` (which photutils imports), and ``gwcs``, which
photutils imports to record dependency versions in every result table's metadata. A person
creates the widget, then types a position; doing those imports in a daemon thread meanwhile
takes them out of the wait after Search. Python's import lock makes a search that starts before
the thread has finished wait for the modules, never see half of one. The thread measures one
tiny image through the public Image API (``ap_phot`` and ``forced_psf_phot``), so it imports
exactly what the first search needs; once per process, and failures are left to the search to
report.
"""

from __future__ import annotations

import threading

__all__ = ["warm_up_photometry"]

_started = threading.Event()


def _measure_once() -> None:
    import numpy as np

    from snapscope.image import Numpy2DImage
    from snapscope.psf import PSF

    image = Numpy2DImage(data=np.ones((33, 33)), noise=np.ones((33, 33)),
                         flags=np.zeros((33, 33), dtype=np.uint32))
    image.ap_phot({"x": [16.0], "y": [16.0]}, ap_r=3.0, bgsize=0, mask="flags", error="noise")
    image.forced_psf_phot({"x": [16.0], "y": [16.0]}, PSF.get_psf_object("gaussian"),
                          bginner=8, bgouter=12)


def _run() -> None:
    try:
        _measure_once()
    except Exception:  # noqa: BLE001, S110 - a warm-up only; the real call reports errors
        pass


def warm_up_photometry() -> None:
    """Start the background imports (once per process; returns at once)."""
    if not _started.is_set():
        _started.set()
        threading.Thread(target=_run, name="snapscope-photometry-warm-up", daemon=True).start()
