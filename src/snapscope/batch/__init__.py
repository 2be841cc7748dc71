"""Batch work over many images: cutouts and forced photometry, in one thread, on threads or on Dask.

>>> from snapscope.image import Image                                     # doctest: +SKIP
>>> from snapscope import batch                                           # doctest: +SKIP
>>> images = Image.find_images(ra=7.5511, dec=-44.8072, order_by="mjd")   # doctest: +SKIP
>>> stack = batch.cutouts(images, "00:30:12.26 -44:48:25.9", size=31)     # doctest: +SKIP
>>> table = batch.forced_photometry(images, (7.5511, -44.8072))           # doctest: +SKIP
>>> table = batch.forced_photometry(images, "7.5511 -44.8072", client=client)  # doctest: +SKIP
>>> table = batch.difference_photometry(images, (7.5511, -44.8072), psf=psfs,  # doctest: +SKIP
...                                     before=62450)

Every call runs the Image API (``get_ra_dec_cutout``, ``ap_phot``, ``forced_psf_phot``) once per
image; the numbers are exactly what those calls give, whichever backend runs them (the calling thread
by default, ``workers=N`` threads, a ``dask.distributed`` cluster when ``client=`` is given;
extra ``dask``, imported only then).
``difference_photometry`` measures the same way on difference stamps (:mod:`snapscope.diff`,
extra ``diff``). The decisions are in the docstrings of ``_run`` (backends), ``_cutouts``,
``_photometry`` and ``_difference``.

Other parts that run a per-image step over many images (``snapscope.diff``) use the same
building blocks: :func:`run` (the backends), :func:`portable` (what stands for an image on a
Dask worker) and :func:`psf_for` (an image's PSF from a PSF, a mapping or a callable).
"""

from snapscope.batch._cutouts import CutoutStack, cutouts, image_key, write_stamps
from snapscope.batch._difference import (
    DIFFERENCE_COLUMNS,
    DIFFERENCE_DEFAULTS,
    difference_photometry,
)
from snapscope.batch._photometry import (
    COLUMNS,
    DEFAULTS,
    EffectivePSF,
    forced_photometry,
    psf_for,
)
from snapscope.batch._positions import parse_position, sky_positions
from snapscope.batch._run import default_workers, portable, run

__all__ = [
    "cutouts",
    "CutoutStack",
    "write_stamps",
    "forced_photometry",
    "EffectivePSF",
    "COLUMNS",
    "DEFAULTS",
    "difference_photometry",
    "DIFFERENCE_COLUMNS",
    "DIFFERENCE_DEFAULTS",
    "parse_position",
    "sky_positions",
    "image_key",
    "default_workers",
    "run",
    "portable",
    "psf_for",
]
