"""Batch work over many images: cutouts and forced photometry, in one thread, on threads or on Dask.

>>> from snapscope.image import Image                                     # doctest: +SKIP
>>> from snapscope import batch                                           # doctest: +SKIP
>>> images = Image.find_images(ra=7.5511, dec=-44.8072, order_by="mjd")   # doctest: +SKIP
>>> stack = batch.cutouts(images, "00:30:12.26 -44:48:25.9", size=31)     # doctest: +SKIP
>>> table = batch.forced_photometry(images, (7.5511, -44.8072))           # doctest: +SKIP
>>> table = batch.forced_photometry(images, "7.5511 -44.8072", client=client)  # doctest: +SKIP

Every call runs the Image API (``get_ra_dec_cutout``, ``ap_phot``, ``psf_phot``) once per image;
the numbers are exactly what those calls give, whichever backend runs them (the calling thread
by default, ``workers=N`` threads, a ``dask.distributed`` cluster when ``client=`` is given;
extra ``dask``, imported only then).
The decisions are in the docstrings of ``_run`` (backends), ``_cutouts`` and ``_photometry``.
"""

from snapscope.batch._cutouts import CutoutStack, cutouts, image_key
from snapscope.batch._photometry import COLUMNS, DEFAULTS, EffectivePSF, forced_photometry
from snapscope.batch._positions import parse_position, sky_positions
from snapscope.batch._run import default_workers

__all__ = [
    "cutouts",
    "CutoutStack",
    "forced_photometry",
    "EffectivePSF",
    "COLUMNS",
    "DEFAULTS",
    "parse_position",
    "sky_positions",
    "image_key",
    "default_workers",
]
