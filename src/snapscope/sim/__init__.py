"""Offline simulator of Roman supernova-survey images (extra ``sim``: GalSim).

No real Roman pixels are reachable offline, so :func:`make_survey` makes them: GalSim's real
Roman WCS (TAN-SIP, every SCA), optical PSF, bandpasses and zodiacal sky; stars and galaxies at
OU2024 densities; SN 20172782 at its OU2024 position with Bazin light curves; Poisson and read
noise; detector defects, cosmic rays and saturation in a DQ plane; written in the OpenUniverse
2024 layout so :class:`snapscope.image.OpenUniverse2024FITSImage` reads them like the real thing.

>>> from snapscope.sim import make_survey                  # doctest: +SKIP
>>> survey = make_survey("demo-data", n_images=12, size=1024)  # doctest: +SKIP
>>> survey.exposures[0]["path"], survey.exposures[0]["sn_flux"]  # doctest: +SKIP

Files in the output directory
-----------------------------
``Roman_TDS_simple_model_{band}_{pointing}_{sca}.fits[.gz]``
    HDU0 header only; ``SCI`` (float32, e⁻ per exposure, sky left in), ``ERR`` (float32, expected
    1σ) and ``DQ`` (uint32, roman_datamodels bits) each carry the full header: TAN-SIP WCS plus
    ``FILTER BAND SCA_NUM SCA POINTING MJD-OBS MJD DATE-OBS EXPTIME ZPTMAG ZP_AB ZPT BUNIT GAIN
    RDNOISE SKY_MEAN SKYLEVEL SATURATE RA DEC RA_TARG DEC_TARG PA_FPA POSANG X0_SCA Y0_SCA
    SIMSEED`` and ``INSTRUME = 'WFI'``. ``bandpass zeropoint + ZPTMAG = ZP_AB``.
``Roman_TDS_index_{band}_{pointing}_{sca}.ecsv``
    Truth: ``object_id ra dec x y flux mag_ab obj_type`` of every drawn source, x/y 0-based
    image pixels, flux in e⁻; the SN has id 20172782, its host 1020172782.
``epsf_{band}_{sca}.fits``
    The ePSF every source was drawn with (4× oversampled, sum 1, ``OVERSAMP`` keyword).
``manifest.json``, ``sky_catalog.ecsv``
    The survey (:func:`load_survey`) and the static sky it was drawn from.

The decisions behind each part are in the docstrings of the private modules: ``_pointing``
(WCS, roll, dithers, OU2024 visits), ``_psf``, ``_catalog`` (densities, galaxies, host),
``_draw``, ``_noise`` (noise, defects, cosmic rays, DQ), ``_lightcurve``, ``_exposure``
(photometric scale, sky), ``_survey`` (schedule, seeds, re-runs, processes).

Determinism: the same arguments give byte-identical files (pixels, tables, gzip streams),
whichever worker process makes them.

Timings per exposure (Y106/H158, warm process, measured on the 2-core test machine while other
jobs kept it loaded 2–3×, so CPU time is the better guide; wall time was 1–3× it):
256² 0.25–0.4 s, 512² 0.5–0.9 s, 1024² 1.5–2.4 s (12 MiB), 4088² 15–25 s (191 MiB; about
three quarters drawing the ~5,500 galaxies, 2.5 s noise and flags, 0.2 s writing; peak RSS
0.9 GB; ``gzip=True`` adds 3–5 s for an 83 MiB file). A fresh process adds about 1.5 s of
imports and 1.5 s per band for the PSF.
"""

from __future__ import annotations

from typing import Any

from snapscope.sim._lightcurve import DEFAULT_MJDS, SN_DEC, SN_ID, SN_RA, sn_magnitude
from snapscope.sim._noise import DQ
from snapscope.sim._survey import Survey, load_survey, make_survey

__all__ = [
    "make_exposure",
    "make_survey",
    "load_survey",
    "Survey",
    "sn_magnitude",
    "SN_ID",
    "SN_RA",
    "SN_DEC",
    "DEFAULT_MJDS",
    "DQ",
]


def __getattr__(name: str) -> Any:
    if name == "make_exposure":  # imports GalSim: only when asked for
        from snapscope.sim._exposure import make_exposure

        return make_exposure
    raise AttributeError(f"module 'snapscope.sim' has no attribute {name!r}")
