"""Facts about the Roman Wide Field Instrument that several parts of snapscope need.

One module owns them: the Image part (zeropoints, exposure times of OU2024 headers), the
simulator (wavelengths, detector, exposure times, file and visit numbering), the widgets (band
order and plot colours) and the catalogue read them here. Values are GalSim 2.8.5's
(``galsim.roman``) or OpenUniverse 2024's, copied so that nothing but the simulator imports
GalSim; ``tests/unit/test_sim.py`` checks them against GalSim.
"""

from __future__ import annotations

__all__ = [
    "BANDS",
    "BAND_CODE",
    "BAND_COLORS",
    "BANDPASS_ZEROPOINT",
    "EFFECTIVE_WAVELENGTH",
    "TDS_EXPTIME",
    "EXPTIME",
    "PIXEL_SCALE",
    "SCA_PIXELS",
    "PIXEL_SIZE_CM",
    "check_band",
]

#: The eight imaging filters, blue to red by effective wavelength (W146 is the wide filter).
BANDS = ("R062", "Z087", "Y106", "J129", "W146", "H158", "F184", "K213")

#: One digit per band in the simulator's visit numbers and so in its file names. Fixed forever
#: (files already written carry it): the order GalSim lists the filters, W146 last.
BAND_CODE = {"R062": 1, "Z087": 2, "Y106": 3, "J129": 4, "H158": 5, "F184": 6, "K213": 7,
             "W146": 8}

#: Plot colour of each band (light curves, tables), blue to red with wavelength.
BAND_COLORS = {"R062": "#6a3d9a", "Z087": "#1f78b4", "Y106": "#2b8cbe", "J129": "#33a02c",
               "W146": "#7f7f7f", "H158": "#ff7f00", "F184": "#e31a1c", "K213": "#b15928"}

#: ``galsim.roman.getBandpasses()[band].zeropoint``: AB magnitude of 1 e⁻/s/m² of collecting area.
BANDPASS_ZEROPOINT = {
    "R062": 15.296832274841094,
    "Z087": 14.964334468671934,
    "Y106": 15.023547191066584,
    "J129": 15.03962528980125,
    "W146": 16.270076102201493,
    "H158": 15.074164829833911,
    "F184": 14.62199399091576,
    "K213": 14.579315583138646,
}

#: ``galsim.roman.getBandpasses()[band].effective_wavelength`` (nm).
EFFECTIVE_WAVELENGTH = {
    "R062": 633.9901384374964,
    "Z087": 871.9072016475309,
    "Y106": 1059.5116430916528,
    "J129": 1293.6013084901492,
    "W146": 1472.4357507000002,
    "H158": 1579.1065849296656,
    "F184": 1841.8161675284355,
    "K213": 2125.5408986242755,
}

#: Exposure time (s) of each band in OpenUniverse 2024's time-domain survey (no W146 there).
TDS_EXPTIME = {"R062": 161.025, "Z087": 101.7, "Y106": 302.275, "J129": 302.275, "H158": 302.275,
               "F184": 901.175, "K213": 901.175}

#: Exposure time (s) the simulator uses: the TDS's, and ``galsim.roman.exptime`` for W146.
EXPTIME = {**TDS_EXPTIME, "W146": 139.8}

#: Nominal pixel scale (arcsec), SCA side (pixels) and pixel pitch (cm), as ``galsim.roman``.
PIXEL_SCALE = 0.11
SCA_PIXELS = 4088
PIXEL_SIZE_CM = 1.0e-3


def check_band(band: str) -> str:
    """Return ``band`` if it is a Roman imaging filter, else raise a ValueError naming them.

    Parameters
    ----------
    band : str
        A filter name such as ``"Y106"``.
    """
    if band not in EXPTIME:
        raise ValueError(f"unknown Roman band {band!r}; known bands: {', '.join(BANDS)}")
    return band
