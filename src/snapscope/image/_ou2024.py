"""OpenUniverse 2024 images and the compressed-FITS classes they derive from.

File names: ``Roman_TDS_simple_model_{band}_{pointing}_{sca}.fits[.gz]``.

Layout: HDU 0 header only, HDU 1 SCI (data), HDU 2 ERR (1σ noise), HDU 3 DQ (flags); header values
are read from the SCI header: ``SCA_NUM``, ``FILTER``, ``MJD-OBS`` (start of exposure),
``EXPTIME`` (else the survey's per-band exposure time), ``SKY_MEAN``, ``RA_TARG``/``DEC_TARG``
(the nominal pointing, as snappl). The zeropoint is GalSim's Roman bandpass AB zeropoint plus the
header's ``ZPTMAG``; the bandpass zeropoints and exposure times are :mod:`snapscope.roman`'s, so
reading an image never imports GalSim.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from snapscope.image._fits import FITSImage
from snapscope.roman import BANDPASS_ZEROPOINT, TDS_EXPTIME

__all__ = [
    "CompressedFITSImage",
    "FITSImageOnDisk",
    "OpenUniverse2024FITSImage",
]

_OU2024_NAME = re.compile(r"^Roman_TDS_simple_model_(?P<band>[^_]+)_(?P<pointing>\d+)_(?P<sca>\d+)\.fits")


class CompressedFITSImage(FITSImage):
    """A FITS image that may be gzip-compressed (read transparently, decompressed once)."""

    def uncompressed_version(self, include: tuple[str, ...] = ("data", "noise", "flags"),
                             temp_dir: Any = None) -> CompressedFITSImage:
        """Write uncompressed ``{random}_image/_noise/_flags.fits`` files; return an image of them.

        Parameters
        ----------
        include : sequence of {'data', 'noise', 'flags'}
            Planes to write (data is always written).
        temp_dir : str or Path, optional
            Directory for the files (default: the snapscope cache directory).
        """
        from snapscope.config import cache_dir

        directory = Path(temp_dir) if temp_dir is not None else cache_dir()
        base = directory / secrets.token_hex(5)
        paths = {p: Path(f"{base}_{'image' if p == 'data' else p}.fits") for p in ("data", "noise", "flags")}
        extra = [p for p in ("noise", "flags") if p in include and self.get_data_view(p) is not None]
        planes = ("data", *extra)
        for plane in planes:
            self.save(which=plane, imagepath=paths["data"] if plane == "data" else None,
                      noisepath=paths["noise"], flagspath=paths["flags"], imagehdu=0, noisehdu=0,
                      flagshdu=0)
        return CompressedFITSImage(
            full_filepath=paths["data"], no_base_path=True,
            noisepath=paths["noise"] if "noise" in planes else None,
            flagspath=paths["flags"] if "flags" in planes else None,
        )


class FITSImageOnDisk(CompressedFITSImage):
    """Old name of :class:`CompressedFITSImage` (identical)."""


class OpenUniverse2024FITSImage(CompressedFITSImage):
    """An OpenUniverse 2024 simulated Roman image (also what ``snapscope.sim`` writes).

    Parameters
    ----------
    imagehdu, noisehdu, flagshdu : int or str
        HDUs of SCI, ERR and DQ (default 1, 2, 3).
    *args, **kwargs
        Passed to :class:`FITSImage`.
    """

    _base_path_config_item = "system.ou24.images"
    _default_db_format = 2

    def __init__(self, *args: Any, imagehdu: int | str = 1, noisehdu: int | str = 2,
                 flagshdu: int | str = 3, **kwargs: Any) -> None:
        super().__init__(*args, imagehdu=imagehdu, noisehdu=noisehdu, flagshdu=flagshdu, **kwargs)

    @staticmethod
    def filename_for(band: str, pointing: Any, sca: int, gzip: bool = True) -> str:
        """Return the OU2024 file name ``Roman_TDS_simple_model_{band}_{pointing}_{sca}.fits[.gz]``."""
        return f"Roman_TDS_simple_model_{band}_{pointing}_{sca}.fits" + (".gz" if gzip else "")

    @staticmethod
    def parse_filename(name: str) -> dict[str, str] | None:
        """Return ``{"band", "pointing", "sca"}`` (text) of an OU2024 file name, else None."""
        match = _OU2024_NAME.match(name)
        return None if match is None else match.groupdict()

    def _get_internal_attribute(self, name: str) -> None:
        header = self.get_fits_header()
        value: Any = None
        if name == "observation_id":
            parts = self.parse_filename(self.filename or "")
            value = parts["pointing"] if parts else header.get("POINTING")
        elif name == "sca":
            value = header.get("SCA_NUM")
        elif name == "band":
            value = header.get("FILTER")
            value = None if value is None else str(value).strip()
        elif name == "mjd":
            value = header.get("MJD-OBS")
        elif name == "sky_level":
            value = header.get("SKY_MEAN")
        elif name == "exptime":
            value = header.get("EXPTIME", TDS_EXPTIME.get(self.band))
        else:
            return super()._get_internal_attribute(name)
        setattr(self, name, value)

    def _get_ra_dec(self) -> None:
        header = self.get_fits_header()
        if "RA_TARG" in header and "DEC_TARG" in header:
            self.ra, self.dec = header["RA_TARG"], header["DEC_TARG"]
        else:
            super()._get_ra_dec()

    def _compute_zeropoint(self) -> float:
        header = self.get_fits_header()
        band = self.band
        if band not in BANDPASS_ZEROPOINT:
            raise ValueError(f"no Roman bandpass zeropoint for band {band!r}; known: "
                             f"{sorted(BANDPASS_ZEROPOINT)}")
        if "ZPTMAG" not in header:
            raise ValueError(f"{self.filename}: the header has no ZPTMAG keyword")
        return BANDPASS_ZEROPOINT[band] + float(header["ZPTMAG"])
