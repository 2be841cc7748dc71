"""The simulated supernova: OpenUniverse 2024 SN 20172782 with Bazin light curves.

The SN sits at the real OU2024 position of SN 20172782. Its light curves are Bazin fits to the
real SNANA curve (``snana_10430.hdf5`` of the photometry test data; rms 0.19/0.27/0.35 mag in
Y106/J129/H158)::

    f(t) = A exp(-(t - t0)/tau_fall) / (1 + exp(-(t - t0)/tau_rise))

normalised so that its maximum is the peak magnitude ``mpk``; there is no flux before the
explosion (MJD 62450), as in OU2024. Only Y106, J129 and H158 are fits; the other bands
interpolate the four parameters linearly in effective wavelength between them and hold the end
values outside (R062/Z087 take Y106's, F184/K213 take H158's). That is a rough colour model,
good enough for test images, and is labelled as such in the manifest.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from snapscope.roman import EFFECTIVE_WAVELENGTH, check_band

__all__ = [
    "SN_ID",
    "SN_RA",
    "SN_DEC",
    "EXPLOSION_MJD",
    "TEMPLATE_MJD",
    "DEFAULT_MJDS",
    "Bazin",
    "bazin_parameters",
    "sn_magnitude",
]

#: OU2024 object id, right ascension and declination (deg) of the simulated supernova.
SN_ID = 20172782
SN_RA = 7.551093401915147
SN_DEC = -44.80718106491529
#: No SN flux before this MJD (OU2024 simulated the SN from 62450 on).
EXPLOSION_MJD = 62450.0
#: The default pre-explosion epoch, used as the subtraction template.
TEMPLATE_MJD = 62420.0
#: Default epochs: the template, then rise, peak and decline.
DEFAULT_MJDS = (TEMPLATE_MJD, 62462.0, 62472.0, 62486.0, 62510.0, 62560.0)


class Bazin(NamedTuple):
    """Bazin light-curve parameters: peak AB magnitude, t0 (MJD), rise and fall times (days)."""

    mpk: float
    t0: float
    tau_rise: float
    tau_fall: float

    @property
    def peak_mjd(self) -> float:
        """MJD of maximum light."""
        return self.t0 + self.tau_rise * math.log(self.tau_fall / self.tau_rise - 1.0)

    def shape(self, mjd: float) -> float:
        """Evaluate the unnormalised Bazin function at ``mjd``."""
        dt = mjd - self.t0
        return math.exp(-dt / self.tau_fall) / (1.0 + math.exp(-dt / self.tau_rise))


#: Fits to the SNANA light curve of SN 20172782 (the three bands OU2024's truth tabulates well).
FITTED = {
    "Y106": Bazin(22.78, 62463.9, 3.38, 45.3),
    "J129": Bazin(22.88, 62468.3, 6.50, 46.8),
    "H158": Bazin(23.54, 62462.8, 2.95, 48.8),
}


def bazin_parameters(band: str) -> Bazin:
    """Return the light-curve parameters used for ``band`` (fitted or interpolated; see module doc).

    Parameters
    ----------
    band : str
        A Roman band.
    """
    check_band(band)
    if band in FITTED:
        return FITTED[band]
    fitted = sorted(FITTED, key=EFFECTIVE_WAVELENGTH.__getitem__)
    waves = [EFFECTIVE_WAVELENGTH[b] for b in fitted]
    values = np.array([FITTED[b] for b in fitted])
    lam = EFFECTIVE_WAVELENGTH[band]
    return Bazin(*(float(np.interp(lam, waves, values[:, k])) for k in range(4)))


def sn_magnitude(band: str, mjd: float) -> float:
    """AB magnitude of the simulated SN in ``band`` at ``mjd``; ``inf`` before the explosion.

    Parameters
    ----------
    band : str
        A Roman band.
    mjd : float
        Modified Julian date of the observation.

    Returns
    -------
    float
        The AB magnitude (``math.inf`` when there is no flux).
    """
    params = bazin_parameters(band)
    if mjd < EXPLOSION_MJD:
        return math.inf
    ratio = params.shape(mjd) / params.shape(params.peak_mjd)
    return params.mpk - 2.5 * math.log10(ratio) if ratio > 0 else math.inf
