"""Roman imaging bands as the simulator uses them: exposure times, wavelengths, detector constants.

Values are GalSim 2.8.5's (``galsim.roman``) or OpenUniverse 2024's, copied here so the light
curve, the colours and the file names work without importing GalSim; a test checks them against
GalSim.
"""

from __future__ import annotations

__all__ = [
    "BANDS",
    "BAND_CODE",
    "EXPTIME",
    "EFFECTIVE_WAVELENGTH",
    "PIXEL_SCALE",
    "SCA_PIXELS",
    "PIXEL_SIZE_CM",
    "check_band",
]

#: Bands GalSim can simulate, in order of wavelength (the wide W146 last).
BANDS = ("R062", "Z087", "Y106", "J129", "H158", "F184", "K213", "W146")

#: One digit per band, used in synthetic visit numbers (see ``_pointing.default_pointing``).
BAND_CODE = {band: i + 1 for i, band in enumerate(BANDS)}

#: Exposure time (s). OU2024's per-band TDS values; W146 (not in the OU2024 TDS) gets
#: ``galsim.roman.exptime``.
EXPTIME = {
    "R062": 161.025,
    "Z087": 101.7,
    "Y106": 302.275,
    "J129": 302.275,
    "H158": 302.275,
    "F184": 901.175,
    "K213": 901.175,
    "W146": 139.8,
}

#: ``galsim.roman.getBandpasses()[band].effective_wavelength`` (nm).
EFFECTIVE_WAVELENGTH = {
    "R062": 633.9901384374964,
    "Z087": 871.9072016475309,
    "Y106": 1059.5116430916528,
    "J129": 1293.6013084901492,
    "H158": 1579.1065849296656,
    "F184": 1841.8161675284355,
    "K213": 2125.5408986242755,
    "W146": 1472.4357507000002,
}

#: Nominal pixel scale (arcsec), SCA side (pixels) and pixel pitch (cm), as ``galsim.roman``.
PIXEL_SCALE = 0.11
SCA_PIXELS = 4088
PIXEL_SIZE_CM = 1.0e-3


def check_band(band: str) -> str:
    """Return ``band`` if GalSim can simulate it, else raise a ValueError naming the known bands.

    Parameters
    ----------
    band : str
        A Roman filter name such as ``"Y106"``.
    """
    if band not in EXPTIME:
        raise ValueError(f"unknown Roman band {band!r}; known bands: {', '.join(BANDS)}")
    return band
