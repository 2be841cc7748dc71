"""``FITSImageStdHeaders``: a FITS image whose header values live in standard keywords.

Values given to the constructor win over the header's; setting a property later writes the
keyword into the in-memory header (saved by ``save()``). Fixed relative to snappl: a missing
keyword gives ``None`` (not a private sentinel object), and ``position_angle`` reads ``POSANG``
whatever was accessed first (snappl's ``positon_angle`` typo raised KeyError).
"""

from __future__ import annotations

from typing import Any

from snapscope.exceptions import ImageFileError
from snapscope.image._fits import FITSImage
from snapscope.image._properties import UNSET, convert_property

__all__ = ["FITSImageStdHeaders", "DEFAULT_HEADER_KWS"]

DEFAULT_HEADER_KWS = {
    "observation_id": "POINTING",
    "sca": "SCA",
    "ra": "RA",
    "dec": "DEC",
    "band": "BAND",
    "mjd": "MJD",
    "position_angle": "POSANG",
    "exptime": "EXPTIME",
    "sky_level": "SKYLEVEL",
    "zeropoint": "ZPT",
}


class FITSImageStdHeaders(FITSImage):
    """A FITS image with header values in standard keywords (``header_kws``).

    Parameters
    ----------
    header_kws : dict, optional
        Property name → FITS keyword; defaults to :data:`DEFAULT_HEADER_KWS` (entries given
        here replace the defaults one by one).
    *args, **kwargs
        Passed to :class:`FITSImage`. Not thread-safe while properties are being set.
    """

    _default_db_format = 11

    def __init__(self, *args: Any, header_kws: dict[str, str] | None = None, **kwargs: Any) -> None:
        unknown = set(header_kws or {}) - set(DEFAULT_HEADER_KWS)
        if unknown:
            raise ValueError(f"header_kws has unknown properties {sorted(unknown)}; "
                             f"known: {sorted(DEFAULT_HEADER_KWS)}")
        self._header_kws = {**DEFAULT_HEADER_KWS, **(header_kws or {})}
        super().__init__(*args, **kwargs)

    def get_fits_header(self) -> Any:
        """Return the header, merged with the properties set on this object."""
        if self._header is None:
            try:
                header = super().get_fits_header()
            except ImageFileError:
                header = None
            if header is None or len(header) == 0:
                from astropy.io import fits

                data = self.__dict__.get("_data")
                header = fits.PrimaryHDU(data=data).header if data is not None else fits.Header()
            self._header = header
            self._sync_with_header()
        return self._header

    def _sync_with_header(self) -> None:
        header = self._header
        for prop, key in self._header_kws.items():
            value = self._zeropoint if prop == "zeropoint" else self.__dict__.get("_" + prop, UNSET)
            if value is not None and value is not UNSET:
                header[key] = value
            elif key in header:
                raw = header[key]
                if prop == "zeropoint":
                    self._zeropoint = float(raw)
                else:
                    self.__dict__["_" + prop] = convert_property(prop, raw)

    def _on_property_set(self, name: str) -> None:
        key = self._header_kws.get(name)
        if key is None:
            return
        value = self._zeropoint if name == "zeropoint" else self.__dict__["_" + name]
        header = self.get_fits_header()
        if value is None:
            header.remove(key, ignore_missing=True)
        else:
            header[key] = value

    def _get_internal_attribute(self, name: str) -> None:
        self.get_fits_header()
        if self.__dict__.get("_" + name, UNSET) is UNSET:
            self.__dict__["_" + name] = None

    def _get_ra_dec(self) -> None:
        self.get_fits_header()
        if self.__dict__.get("_ra", UNSET) is UNSET or self.__dict__.get("_dec", UNSET) is UNSET:
            super()._get_ra_dec()

    def _get_position_angle(self) -> None:
        self.get_fits_header()
        if self.__dict__.get("_position_angle", UNSET) is UNSET:
            super()._get_position_angle()

    def _compute_zeropoint(self) -> float:
        self.get_fits_header()
        if self._zeropoint is None:
            raise RuntimeError(f"{self!r} has no zeropoint: its header has no "
                               f"{self._header_kws['zeropoint']} keyword and none was given")
        return self._zeropoint

    def _cutout_init_kwargs(self) -> dict[str, Any]:
        return {**super()._cutout_init_kwargs(), "header_kws": dict(self._header_kws)}
