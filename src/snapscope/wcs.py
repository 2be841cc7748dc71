"""World coordinate systems with snappl's interface: ``BaseWCS``, ``AstropyWCS``, ``GalsimWCS``, ``GWCS``.

Conventions (the same as snappl):

* pixel coordinates are 0-origin with the centre of the lower-left pixel at (0.0, 0.0), so the
  array spans (-0.5, -0.5) … (W-0.5, H-0.5); FITS and ds9 are 1-origin;
* sky coordinates are ICRS right ascension and declination in decimal degrees;
* scalars in give Python floats out; sequences or arrays in give numpy arrays out.

As in snappl, (ra, dec) are taken in the WCS's own frame (``RADESYS``; FK5 J2000 for headers with
``EQUINOX = 2000``), so ``world_to_pixel(*pixel_to_world(x, y))`` returns (x, y) to 1e-9 px. Unlike
snappl, both directions use astropy's low-level ``*_values`` calls, which skip ``SkyCoord`` and are
several times faster.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from snapscope.exceptions import NoWCSError

__all__ = ["BaseWCS", "AstropyWCS", "GalsimWCS", "GWCS", "RDM_GWCS"]


def _is_array_input(x: Any) -> bool:
    """True when snappl would return arrays for this input (a sequence or an array of size > 1)."""
    return isinstance(x, Sequence | list | tuple) or (isinstance(x, np.ndarray) and x.size > 1)


def _shape_output(x_in: Any, a: Any, b: Any) -> tuple[Any, Any]:
    if _is_array_input(x_in):
        return np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.asarray(a).ravel()[0]), float(np.asarray(b).ravel()[0])


def _tpv_fixed_header(header: Any) -> Any:
    """Return a header whose TAN + PV distortion is labelled TPV, as snappl does.

    ``header`` is an astropy ``Header`` or a raw header string (80-character cards): a string
    is returned as it is when it needs no fix (astropy builds a WCS from the text ~20 % faster
    than from a parsed header), else as a fixed ``Header``.
    """
    if isinstance(header, str):
        from snapscope.image._fitsfile import parse_cards

        cards = parse_cards(header.encode("ascii", errors="replace"))
        if not (str(cards.get("CTYPE1", "")).strip() == "RA---TAN" and "PV1_0" in cards):
            return header
        from astropy.io import fits

        header = fits.Header.fromstring(header)
    if str(header.get("CTYPE1", "")).strip() == "RA---TAN" and "PV1_0" in header:
        header = header.copy()
        header["CTYPE1"] = "RA---TPV"
        header["CTYPE2"] = "DEC--TPV"
    return header


_SIP_CARD = re.compile(r"(A|B)_(\d+_\d+|ORDER|DMAX) ")
_PLAIN_CTYPES = {("RA---TAN", "DEC--TAN"), ("RA---TAN-SIP", "DEC--TAN-SIP")}
#: Keywords astropy handles beyond wcslib and SIP A/B (or an alternate / third axis): such
#: headers go through ``astropy.wcs.WCS(header)`` itself.
_NOT_PLAIN = re.compile(r"(PV|PS|CPDIS|CPERR|CQDIS|D2IM|DP\d|DQ\d|AP_|BP_|WCSAXES\S|"
                        r"(CTYPE|CRPIX|CRVAL|CDELT|CUNIT|CD\d_|PC\d_)\S*[A-Z3-9]\b)")


def _plain_tan_wcs(text: str) -> Any:
    """``astropy.wcs.WCS(text)`` of a plain 2-D TAN or TAN-SIP header, built in ~1 ms, else None.

    astropy spends ~9 ms per OU2024 header in Python header bookkeeping (copying it, deleting
    the SIP cards one by one); the same object is made here from wcslib's own parser
    (``Wcsprm``) fed the header without its SIP cards, the SIP polynomials read from the cards,
    astropy's ``fix()`` and ``set()``, and the image size. Anything else (distortion tables,
    TPV, inverse SIP, alternate or extra axes) returns None: callers then use astropy's
    constructor. ``tests/unit/test_wcs_geometry.py`` checks both give identical objects.
    """
    import warnings

    from astropy.wcs import WCS, FITSFixedWarning, Sip, Wcsprm

    from snapscope.image._fitsfile import parse_cards

    cards = parse_cards(text.encode("ascii", errors="replace"))
    ctypes = (str(cards.get("CTYPE1", "")).strip(), str(cards.get("CTYPE2", "")).strip())
    if (cards.get("NAXIS") != 2 or cards.get("WCSAXES", 2) != 2 or ctypes not in _PLAIN_CTYPES
            or any(map(_NOT_PLAIN.match, cards))):
        return None
    sip = ctypes[0].endswith("-SIP")
    if sip != ("A_ORDER" in cards and "B_ORDER" in cards):
        return None
    lines = [text[k : k + 80] for k in range(0, len(text), 80)]
    end = next((i for i, c in enumerate(lines) if c.rstrip() == "END"), len(lines))
    kept = "".join(c for c in lines[:end] if not _SIP_CARD.match(c))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)  # as astropy's constructor
        wcsprm = Wcsprm(kept.encode("ascii"), relax=True)
        out = WCS(naxis=2)
        out.wcs = wcsprm
        if sip:
            out.sip = Sip(_sip_matrix(cards, "A"), _sip_matrix(cards, "B"), None, None, wcsprm.crpix)
        out.fix()
    out.wcs.set()
    out.pixel_shape = (cards.get("NAXIS1", 0), cards.get("NAXIS2", 0))
    return out


def _sip_matrix(cards: dict[str, Any], name: str) -> np.ndarray:
    order = int(cards[f"{name}_ORDER"])
    m = np.zeros((order + 1, order + 1))
    for p in range(order + 1):
        for q in range(order + 1 - p):
            m[p, q] = cards.get(f"{name}_{p}_{q}", 0.0)
    return m


class BaseWCS:
    """Interface of every snapscope WCS. Subclasses implement the conversions."""

    def __init__(self) -> None:
        self._wcs = None
        self._wcs_is_astropy = False

    def pixel_to_world(self, x: Any, y: Any) -> tuple[Any, Any]:
        """Convert 0-origin pixel coordinates to (ra, dec) in degrees."""
        raise NotImplementedError(f"{type(self).__name__} does not implement pixel_to_world")

    def world_to_pixel(self, ra: Any, dec: Any) -> tuple[Any, Any]:
        """Convert (ra, dec) in degrees to 0-origin pixel coordinates."""
        raise NotImplementedError(f"{type(self).__name__} does not implement world_to_pixel")

    @classmethod
    def from_header(cls, header: Any) -> BaseWCS:
        """Build the WCS from a FITS header."""
        raise NotImplementedError(f"{cls.__name__} does not implement from_header")

    def get_astropy_wcs(self, readonly: bool = True, degree: int | None = None) -> Any:
        """Return an ``astropy.wcs.WCS`` equivalent of this WCS."""
        raise NotImplementedError(f"{type(self).__name__} cannot give an astropy WCS")

    def get_galsim_wcs(self) -> Any:
        """Return a GalSim WCS equivalent of this WCS (needs the ``sim`` extra)."""
        raise NotImplementedError(f"{type(self).__name__} cannot give a GalSim WCS")

    def to_fits_header(self) -> Any:
        """Return an ``astropy.io.fits.Header`` with this WCS's keywords."""
        raise NotImplementedError(f"{type(self).__name__} cannot write a FITS header")


class AstropyWCS(BaseWCS):
    """A WCS backed by ``astropy.wcs.WCS`` (full distortions: SIP, TPV, lookup tables).

    Parameters
    ----------
    apwcs : astropy.wcs.WCS, optional
        The astropy WCS to wrap; it must be celestial.
    """

    def __init__(self, apwcs: Any = None) -> None:
        super().__init__()
        if apwcs is not None:
            from astropy.wcs import WCS

            if not isinstance(apwcs, WCS):
                raise TypeError(f"AstropyWCS needs an astropy.wcs.WCS, not {type(apwcs).__name__}")
            if not apwcs.has_celestial:
                raise NoWCSError("the astropy WCS has no celestial axes (no RA/Dec)")
        self._wcs = apwcs
        self._wcs_is_astropy = True

    @classmethod
    def from_header(cls, header: Any) -> AstropyWCS:
        """Build from a FITS header (astropy ``Header`` or raw header text).

        Raises :class:`~snapscope.exceptions.NoWCSError` if it has none.
        """
        import warnings

        from astropy.wcs import WCS, FITSFixedWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            try:
                # a plain TAN/TAN-SIP text has no PV cards, so it needs no TPV relabelling
                apwcs = ((isinstance(header, str) and _plain_tan_wcs(header))
                         or WCS(_tpv_fixed_header(header)))
            except Exception as err:  # astropy raises many types for broken WCS keywords
                raise NoWCSError(f"the header's WCS keywords cannot be read: {err}") from err
        if not apwcs.has_celestial:
            raise NoWCSError("the header has no celestial WCS (no RA/Dec CTYPE keywords)")
        if apwcs.naxis > 2:
            apwcs = apwcs.celestial
        return cls(apwcs)

    def pixel_to_world(self, x: Any, y: Any) -> tuple[Any, Any]:
        """Convert 0-origin pixel coordinates to (ra, dec) in degrees."""
        ra, dec = self._wcs.pixel_to_world_values(np.asarray(x, float), np.asarray(y, float))
        return _shape_output(x, np.mod(ra, 360.0), dec)

    def world_to_pixel(self, ra: Any, dec: Any) -> tuple[Any, Any]:
        """Convert (ra, dec) in degrees to 0-origin pixel coordinates (NaN on the far side)."""
        import warnings

        from astropy.wcs import NoConvergence

        ra_a = np.asarray(ra, float)
        dec_a = np.asarray(dec, float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                x, y = self._wcs.world_to_pixel_values(ra_a, dec_a)
            except NoConvergence as err:
                sol = np.array(np.atleast_2d(err.best_solution), dtype=float)
                if err.divergent is not None:
                    sol[err.divergent] = np.nan
                x, y = sol[:, 0].reshape(ra_a.shape), sol[:, 1].reshape(ra_a.shape)
        return _shape_output(ra, x, y)

    def get_astropy_wcs(self, readonly: bool = True, degree: int | None = None) -> Any:
        """Return the wrapped ``astropy.wcs.WCS`` (a deep copy when ``readonly`` is False)."""
        return self._wcs if readonly else copy.deepcopy(self._wcs)

    def get_galsim_wcs(self) -> Any:
        """Return ``galsim.AstropyWCS`` wrapping the same WCS."""
        from snapscope._utils._optional import require

        galsim = require("galsim", purpose="GalSim WCS objects")
        return galsim.AstropyWCS(wcs=self._wcs)

    def to_fits_header(self) -> Any:
        """Return the WCS keywords as an ``astropy.io.fits.Header`` (SIP included)."""
        return self._wcs.to_header(relax=True)


class GalsimWCS(BaseWCS):
    """A WCS backed by a GalSim WCS (1-origin internally; this class speaks 0-origin).

    Parameters
    ----------
    gsimwcs : galsim.BaseWCS, optional
        The GalSim WCS to wrap (needs the ``sim`` extra).
    """

    def __init__(self, gsimwcs: Any = None) -> None:
        super().__init__()
        self._gsimwcs = gsimwcs

    @classmethod
    def from_header(cls, header: Any) -> GalsimWCS:
        """Build a ``galsim.AstropyWCS`` from a FITS header."""
        from snapscope._utils._optional import require

        galsim = require("galsim", purpose="GalsimWCS")
        return cls(galsim.AstropyWCS(header=_tpv_fixed_header(header)))

    def pixel_to_world(self, x: Any, y: Any) -> tuple[Any, Any]:
        """Convert 0-origin pixel coordinates to (ra, dec) in degrees."""
        ra, dec = self._gsimwcs.toWorld(np.asarray(x, float) + 1, np.asarray(y, float) + 1, units="deg")
        return _shape_output(x, np.mod(ra, 360.0), dec)

    def world_to_pixel(self, ra: Any, dec: Any) -> tuple[Any, Any]:
        """Convert (ra, dec) in degrees to 0-origin pixel coordinates."""
        x, y = self._gsimwcs.toImage(np.asarray(ra, float), np.asarray(dec, float), units="deg")
        return _shape_output(ra, np.asarray(x) - 1, np.asarray(y) - 1)

    def get_galsim_wcs(self) -> Any:
        """Return the wrapped GalSim WCS."""
        return self._gsimwcs


class GWCS(BaseWCS):
    """A WCS backed by a ``gwcs.wcs.WCS`` (Roman ASDF files; needs the ``roman`` extra).

    Parameters
    ----------
    gwcs : gwcs.wcs.WCS, optional
        The generalised WCS to wrap; its output frame must be celestial (ICRS).
    """

    def __init__(self, gwcs: Any = None) -> None:
        super().__init__()
        if gwcs is not None:
            frame = getattr(gwcs.output_frame, "reference_frame", None)
            if frame is not None and type(frame).__name__ != "ICRS":
                raise TypeError(f"GWCS needs an ICRS output frame, not {type(frame).__name__}")
        self._gwcs = gwcs

    @classmethod
    def from_asdf(cls, path: Any) -> GWCS:
        """Read the WCS stored under ``roman.meta.wcs`` (or ``wcs``) of an ASDF file."""
        from snapscope._utils._optional import require

        asdf = require("asdf", purpose="reading ASDF files")
        with asdf.open(path) as af:
            tree = af.tree
            wcs = tree["roman"]["meta"]["wcs"] if "roman" in tree else tree["wcs"]
            return cls(copy.deepcopy(wcs))

    from_adsf = from_asdf  # snappl's spelling

    def pixel_to_world(self, x: Any, y: Any) -> tuple[Any, Any]:
        """Convert 0-origin pixel coordinates to (ra, dec) in degrees."""
        ra, dec = self._gwcs(np.asarray(x, float), np.asarray(y, float), with_bounding_box=False)
        return _shape_output(x, np.mod(ra, 360.0), dec)

    def world_to_pixel(self, ra: Any, dec: Any) -> tuple[Any, Any]:
        """Convert (ra, dec) in degrees to 0-origin pixel coordinates."""
        ra_a, dec_a = np.asarray(ra, float), np.asarray(dec, float)
        try:
            x, y = self._gwcs.invert(ra_a, dec_a, with_bounding_box=False)
        except (AttributeError, NotImplementedError):  # no analytic inverse: solve numerically
            x, y = self._gwcs.numerical_inverse(ra_a, dec_a, with_bounding_box=False)
        return _shape_output(ra, x, y)

    def get_astropy_wcs(self, readonly: bool = True, degree: int | None = 5) -> Any:
        """Return a SIP approximation as an ``astropy.wcs.WCS`` (cached per degree)."""
        from astropy.wcs import WCS

        degree = 5 if degree is None else degree
        cache = self.__dict__.setdefault("_astropy_cache", {})
        if degree not in cache:
            header = self._gwcs.to_fits_sip(degree=degree) if hasattr(self._gwcs, "to_fits_sip") else None
            if header is None:
                header = self._gwcs.to_fits(degree=degree)[0]
            cache[degree] = WCS(header)
        return cache[degree] if readonly else copy.deepcopy(cache[degree])


RDM_GWCS = GWCS  # snappl's name for the GWCS of Roman data-model images
