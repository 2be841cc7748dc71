"""Difference stamps of one position as one multi-extension FITS file (every plane)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["write_differences"]

#: Extensions written per epoch (``EXTVER`` = the epoch's number).
PLANES = ("SCI", "REF", "DIFF", "DIFFERR", "DQ")


def write_differences(path: str | Path, images: Sequence[Any], differences: Sequence[Any], *,
                      overwrite: bool = False) -> Path:
    """Write science, reference and difference stamps of every epoch, atomically.

    Per epoch ``k`` (1, 2, … in the order given): ``SCI`` (the science side), ``REF`` (the
    resampled, flux-scaled, PSF-matched reference), ``DIFF``, ``DIFFERR`` (its 1σ noise) and
    ``DQ`` (its flags), each headed by the difference stamp's WCS and the science image's
    ``BAND MJD-OBS IMAGEID FILEPATH ZP_AB``; an ``INDEX`` table lists the epochs
    (:func:`snapscope.batch.write_stamps`). ``fits.getdata(path, ("DIFF", 3))`` is the third
    epoch's difference.

    Parameters
    ----------
    path, overwrite
        As :func:`snapscope.batch.write_stamps` (which returns the path written).
    images : sequence of Image
        The science images, in the order of ``differences``.
    differences : sequence of Difference or None
        From :func:`snapscope.diff.differences` (None entries, e.g. failed epochs, are skipped).

    Raises
    ------
    ValueError
        When ``images`` and ``differences`` differ in length, or nothing is to be written.
    """
    from snapscope.batch import write_stamps

    if len(images) != len(differences):
        raise ValueError(f"{len(images)} images but {len(differences)} differences")
    rows = [(image, d.image, zip(PLANES, (d.science_stamp.data, d.reference_stamp.data,
                                          d.image.data, d.image.noise, d.image.flags), strict=True))
            for image, d in zip(images, differences, strict=True) if d is not None]
    if not rows:
        raise ValueError("no difference stamp to write")
    first = next(d for d in differences if d is not None)
    ra, dec = first.image.get_wcs().pixel_to_world(first.x, first.y)
    return write_stamps(path, float(ra), float(dec), first.image.width, rows, overwrite=overwrite)
