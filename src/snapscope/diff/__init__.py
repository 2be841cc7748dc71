"""Difference imaging on stamps: references, PSF-matched differences (extra ``diff``: reproject).

A supernova sits on its host galaxy, so photometry of the science image measures the host
too. Subtracting a reference (template) of the same sky, made before the explosion, removes
the host:

>>> from snapscope import diff, batch                                        # doctest: +SKIP
>>> ref = diff.build_reference(images, (ra, dec), psfs, band="Y106", before=62450)  # doctest: +SKIP
>>> d = diff.difference(images[20], ref, psfs)                               # doctest: +SKIP
>>> d.image.ap_phot({"x": [d.x], "y": [d.y]}, ap_r=3, bgsize=0, error="noise")  # doctest: +SKIP
>>> table = batch.difference_photometry(images, (ra, dec), psf=psfs, before=62450)  # doctest: +SKIP

Everything works on stamps around the position, through the Image API (cutouts, WCS,
zeropoints, noise and flag planes) and each image's PSF (``snapscope.psf``); whole images are
never read. The per-image steps run on ``snapscope.batch``'s runner (calling thread, threads or
a Dask cluster). The decisions are in the docstrings of ``_stamp`` (cutouts, PSF planes,
resampling with ``reproject``), ``_reference`` (grid, weights, flags, PSF of the coadd),
``_kernel`` (PSF matching) and ``_difference`` (science grid, flux scale, bad pixels,
background).
"""

from snapscope.diff._difference import (
    Difference,
    StampPSF,
    difference,
    differences,
    reference_bands,
    reference_for,
)
from snapscope.diff._kernel import match_kernel, sharpness
from snapscope.diff._reference import DO_NOT_USE, Reference, build_reference, reference_size
from snapscope.diff._workers import default_workers
from snapscope.diff._write import write_differences

__all__ = [
    "build_reference",
    "Reference",
    "difference",
    "differences",
    "default_workers",
    "write_differences",
    "reference_bands",
    "reference_for",
    "Difference",
    "StampPSF",
    "match_kernel",
    "sharpness",
    "reference_size",
    "DO_NOT_USE",
]
