"""The ``Image`` base class: snappl's public API for one 2-D image.

Conventions (as snappl): arrays are indexed ``[y, x]``; pixel centres are integer, 0-origin
positions, so the array spans (-0.5, -0.5) … (W-0.5, H-0.5); "nearest pixel" is ``floor(v + 0.5)``;
data are in "DAV" (counts from the pixel's sky area) and ``m_AB = -2.5 log10(DAV_total) + zp``.

Fixed on purpose, relative to snappl 0.48 (each has a test):

* ``includes_radec`` tests the true footprint ``[-0.5, W-0.5) × [-0.5, H-0.5)`` (snappl's box is
  shifted by half a pixel) and accepts arrays;
* ``fraction_masked`` is implemented (pixels with any flag bit set);
* unknown header values are ``None`` (snappl returns a private sentinel object), values set later are
  type-converted like constructor values, and ``position_angle`` handles RA = 0/360;
* ``zeropoint`` works as a property (it calls ``get_zeropoint()``; snappl raises);
* the database classmethods talk to PostgreSQL directly (:mod:`snapscope.db`).
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import numpy as np

from snapscope.exceptions import NoWCSError
from snapscope.image._mask import PixelMask, resolve_mask
from snapscope.image._paths import PathedObject
from snapscope.image._pixels import PixelSource
from snapscope.image._properties import (
    CORNER_NAMES,
    INTERNAL_PROPERTIES,
    UNSET,
    HeaderProperty,
    convert_property,
)

__all__ = ["Image", "as_uuid", "DATA_ARRAY_LIST"]

DATA_ARRAY_LIST = ("all", "data", "noise", "flags")
_CLOSE_ENOUGH_POSITION_ANGLE = 3.0  # degrees, as snappl


def as_uuid(value: Any) -> uuid.UUID | None:
    """Return ``value`` as a :class:`uuid.UUID` (None stays None).

    Raises
    ------
    TypeError
        If ``value`` is neither a UUID nor a string.
    ValueError
        If the string is not a UUID.
    """
    if value is None or isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        return uuid.UUID(value)
    raise TypeError(f"expected a UUID or a str, not {type(value).__name__}")


def check_which(which: str) -> None:
    """Raise a ValueError naming the allowed values when ``which`` is not a plane name."""
    if which not in DATA_ARRAY_LIST:
        raise ValueError(f"Unknown which {which!r}, must be all, data, noise, or flags")


class Image(PathedObject):
    """One 2-D image: pixels (``data``, ``noise``, ``flags``), header values and a WCS.

    This is an abstract base class; instantiate a subclass (``FITSImage``,
    ``OpenUniverse2024FITSImage``, ``Numpy2DImage``…) or get images with
    ``Image.find_images`` / ``Image.get_image`` or an ``ImageCollection``.

    Parameters
    ----------
    full_filepath : str or Path, optional
        Absolute path of the image file.
    filepath : str or Path, optional
        Path relative to ``base_path`` (absolute when ``no_base_path``).
    base_path, base_dir : str or Path, optional
        Directory of database images; the default comes from the ``format``'s config key.
    path : str or Path, optional
        Deprecated synonym of ``full_filepath``.
    no_base_path : bool
        Treat ``filepath`` as absolute.
    id, provenance_id : UUID or str, optional
        Database identifiers (``l2image`` table).
    format : int
        Key of :attr:`Image._format_def` (-1: not a database image).
    zeropoint : float, optional
        AB zeropoint, overriding what the subclass would compute.
    **kwargs
        Header values: ``width height observation_id sca ra dec band mjd position_angle exptime
        sky_level`` and the eight ``ra_corner_*``/``dec_corner_*``; converted to their types.
    """

    data_array_list = list(DATA_ARRAY_LIST)

    #: database ``format`` column → (description, image class name, base-path config key)
    _format_def: dict[int, dict[str, Any]] = {
        -1: {"description": "Not a database image", "image_class": None, "base_path_config": None},
        0: {"description": "Unknown", "image_class": "Image", "base_path_config": None},
        1: {
            "description": "OU2024 FITS Image in standard database location",
            "image_class": "OpenUniverse2024FITSImage",
            "base_path_config": "system.paths.images",
        },
        2: {
            "description": "OU2024 FITS Image at the native OU2024 location",
            "image_class": "OpenUniverse2024FITSImage",
            "base_path_config": "system.ou24.images",
        },
        10: {
            "description": "FITS image (snapscope)",
            "image_class": "FITSImage",
            "base_path_config": "system.paths.images",
        },
        11: {
            "description": "FITS image with standard headers (snapscope)",
            "image_class": "FITSImageStdHeaders",
            "base_path_config": "system.paths.images",
        },
        100: {
            "description": "Basic Roman Data Model Image at standard database location",
            "image_class": "RomanDatamodelImage",
            "base_path_config": "system.paths.images",
        },
        101: {
            "description": "Roman Data Model Image needing a CRDS WCS correction",
            "image_class": "RomanDatamodelImage",
            "base_path_config": "system.paths.images",
        },
    }
    #: the ``format`` written to the database when the image was not read from it
    _default_db_format: int | None = None

    observation_id = HeaderProperty("Str; unique identifier of one exposure combining all SCAs.")
    sca = HeaderProperty("Int; the chip (SCA) of the image.")
    band = HeaderProperty("Str; the filter, e.g. 'Y106'.")
    mjd = HeaderProperty("Float; MJD of the start of the exposure (RDM: mid-exposure).")
    exptime = HeaderProperty("Float; exposure time in seconds.")
    sky_level = HeaderProperty("Float; estimate of the sky level in data units, or None.")
    ra = HeaderProperty("Float; degrees; nominal RA of the image (usually from the header).")
    dec = HeaderProperty("Float; degrees; nominal Dec of the image (usually from the header).")
    position_angle = HeaderProperty("Float; degrees in (-180, 180]; position angle of the image.")
    ra_corner_00 = HeaderProperty("Float; degrees; RA of pixel (x=0, y=0).")
    ra_corner_01 = HeaderProperty("Float; degrees; RA of pixel (x=0, y=height-1).")
    ra_corner_10 = HeaderProperty("Float; degrees; RA of pixel (x=width-1, y=0).")
    ra_corner_11 = HeaderProperty("Float; degrees; RA of pixel (x=width-1, y=height-1).")
    dec_corner_00 = HeaderProperty("Float; degrees; Dec of pixel (x=0, y=0).")
    dec_corner_01 = HeaderProperty("Float; degrees; Dec of pixel (x=0, y=height-1).")
    dec_corner_10 = HeaderProperty("Float; degrees; Dec of pixel (x=width-1, y=0).")
    dec_corner_11 = HeaderProperty("Float; degrees; Dec of pixel (x=width-1, y=height-1).")

    def __init__(
        self,
        full_filepath: Any = None,
        filepath: Any = None,
        base_path: Any = None,
        base_dir: Any = None,
        path: Any = None,
        no_base_path: bool = False,
        id: Any = None,  # noqa: A002 - snappl's argument name
        provenance_id: Any = None,
        format: int = -1,  # noqa: A002 - snappl's argument name
        is_superclass: bool = False,
        zeropoint: float | None = None,
        **kwargs: Any,
    ) -> None:
        unknown = set(kwargs) - set(INTERNAL_PROPERTIES)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} constructor didn't recognize keyword arguments "
                f"{sorted(unknown)}; header values it accepts: {sorted(INTERNAL_PROPERTIES)}"
            )
        if format not in self._format_def:
            raise ValueError(f"unknown image format {format!r}; known: {sorted(self._format_def)}")
        self._format = format
        self._init_paths(
            full_filepath=full_filepath,
            filepath=filepath,
            base_path=base_path,
            base_dir=base_dir,
            path=path,
            no_base_path=no_base_path,
            config_item=self._format_def[format]["base_path_config"],
        )
        self._id = as_uuid(id)
        self._provenance_id = as_uuid(provenance_id)
        for name in INTERNAL_PROPERTIES:
            value = kwargs.get(name)
            self.__dict__["_" + name] = UNSET if value is None else convert_property(name, value)
        self._zeropoint = None if zeropoint is None else float(zeropoint)
        self._wcs = None
        self._is_cutout = False

    # ----------------------------------------------------------------- identity
    @property
    def id(self) -> uuid.UUID | None:
        """The database image uuid in the l2image table."""
        return self._id

    @id.setter
    def id(self, value: Any) -> None:
        self._id = as_uuid(value)

    @property
    def provenance_id(self) -> uuid.UUID | None:
        """The database provenance uuid of the image in the l2image table."""
        return self._provenance_id

    @provenance_id.setter
    def provenance_id(self, value: Any) -> None:
        self._provenance_id = as_uuid(value)

    def __repr__(self) -> str:
        where = self.filename or "in memory"
        try:  # header values are cheap (no pixels); a broken file must not break the repr
            shape, band = f"{self.width}×{self.height}", self.band
        except Exception:  # noqa: BLE001
            shape, band = "?×?", "?"
        return f"<{type(self).__name__} {where} {shape} band={band}>"

    # ------------------------------------------------------------ header values
    def _resolve_property(self, name: str) -> None:
        """Fill ``self._<name>`` (called by :class:`HeaderProperty` for unset values)."""
        if name in ("ra", "dec"):
            self._get_ra_dec()
        elif name == "position_angle":
            self._get_position_angle()
        elif name in CORNER_NAMES:
            self._get_corners()
        else:
            self._get_internal_attribute(name)

    def _on_property_set(self, name: str) -> None:
        """Hook called after a header property is set (FITSImageStdHeaders writes the header)."""

    def _get_internal_attribute(self, name: str) -> None:
        """Look up a header value; the base class knows none."""
        self.__dict__["_" + name] = None

    def _get_ra_dec(self) -> None:
        """Nominal centre: the WCS at the array centre ((W-1)/2, (H-1)/2)."""
        try:
            ra, dec = self.get_wcs().pixel_to_world((self.width - 1) / 2, (self.height - 1) / 2)
        except NoWCSError:
            ra = dec = None
        self.__dict__["_ra"], self.__dict__["_dec"] = ra, dec

    def _get_corners(self) -> None:
        """Corners = sky positions of the four corner pixel *centres*."""
        w, h = self.width - 1, self.height - 1
        try:
            ras, decs = self.get_wcs().pixel_to_world([0, 0, w, w], [0, h, 0, h])
        except NoWCSError:
            ras = decs = [None] * 4
        for i, corner in enumerate(("00", "01", "10", "11")):
            self.__dict__[f"_ra_corner_{corner}"] = None if ras[i] is None else float(ras[i])
            self.__dict__[f"_dec_corner_{corner}"] = None if decs[i] is None else float(decs[i])

    def _get_position_angle(self) -> None:
        try:
            wcs = self.get_wcs()
        except NoWCSError:
            self.__dict__["_position_angle"] = None
            return
        self.__dict__["_position_angle"] = position_angle_of(wcs, self.width, self.height)

    @property
    def width(self) -> int:
        """Width (x size, second numpy index) of the image in pixels."""
        if self.__dict__.get("_width") in (None, UNSET):
            self._get_image_shape()
        return self._width

    @width.setter
    def width(self, value: Any) -> None:
        self._width = convert_property("width", value)

    @property
    def height(self) -> int:
        """Height (y size, first numpy index) of the image in pixels."""
        if self.__dict__.get("_height") in (None, UNSET):
            self._get_image_shape()
        return self._height

    @height.setter
    def height(self, value: Any) -> None:
        self._height = convert_property("height", value)

    @property
    def image_shape(self) -> tuple[int, int]:
        """(ny, nx) size of the image in pixels."""
        return (self.height, self.width)

    def _get_image_shape(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not know its shape")

    # -------------------------------------------------------------- zeropoint
    @property
    def zeropoint(self) -> float:
        """AB zeropoint: ``m = -2.5 log10(total counts) + zeropoint`` (same as ``get_zeropoint()``)."""
        return self.get_zeropoint()

    @zeropoint.setter
    def zeropoint(self, value: float | None) -> None:
        self._zeropoint = None if value is None else float(value)
        self._on_property_set("zeropoint")

    def get_zeropoint(self, x: float | None = None, y: float | None = None, sed: Any = None) -> float:
        """Return the infinite-aperture AB zeropoint of the image (``sed`` is ignored, as in snappl)."""
        if self._zeropoint is not None:
            return self._zeropoint
        return self._compute_zeropoint()

    def _compute_zeropoint(self) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not know its zeropoint")

    # ---------------------------------------------------------------- pixels
    @property
    def data(self) -> np.ndarray:
        """The image data, a 2-D numpy array (lazy-loaded)."""
        raise NotImplementedError(f"{type(self).__name__} has no data")

    @property
    def noise(self) -> np.ndarray:
        """The 1σ pixel noise, a 2-D numpy array (lazy-loaded)."""
        raise NotImplementedError(f"{type(self).__name__} has no noise")

    @property
    def flags(self) -> np.ndarray:
        """Integer 2-D array of pixel flags, non-zero = flagged (lazy-loaded)."""
        raise NotImplementedError(f"{type(self).__name__} has no flags")

    def get_data(self, which: str = "all", always_reload: bool = False, cache: bool = False) -> list:
        """Read ``[data, noise, flags]`` (or one plane) as native-endian in-memory arrays.

        Parameters
        ----------
        which : {'all', 'data', 'noise', 'flags'}
            Planes to return, in the order data, noise, flags.
        always_reload : bool
            Read from the file even when a plane is already held in memory.
        cache : bool
            Keep what was read, so ``.data`` etc. and later calls reuse it.
        """
        check_which(which)
        out = []
        for plane in ("data", "noise", "flags") if which == "all" else (which,):
            held = self.__dict__.get("_" + plane)
            array = None
            if not self._is_cutout and (held is None or always_reload):
                array = self._read_plane(plane)
            if array is None:
                out.append(held)
                continue
            if cache:
                self.__dict__["_" + plane] = array
            out.append(array)
        return out

    def _read_plane(self, which: str) -> np.ndarray | None:
        """Read one plane from the image's file (None: the image has no such plane on disk)."""
        raise NotImplementedError(f"{type(self).__name__} does not read planes from a file")

    def get_data_view(self, which: str = "data") -> np.ndarray | None:
        """Return a plane without loading it into memory (a memory map where possible).

        Cutouts, tiles and batch work slice this; only the rows touched are read. The array may
        be big-endian and must be treated as read-only; a FITS plane stored with BZERO/BSCALE is
        a :class:`~snapscope.image.ScaledPlane` (slices of it are scaled ndarrays). None when
        the image has no such plane.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement get_data_view")

    def pixel_source(self, which: str = "data") -> PixelSource | None:
        """Return one plane as a :class:`~snapscope.image.PixelSource`, without loading it.

        What tiles, batch work and widgets read an image through: the plane's view
        (:meth:`get_data_view`), a stable key (two images of one file share it; a file
        replaced on disk gets a new one), ``prefetch(rows)`` / ``release(r0, r1)`` page-cache
        advice (no-ops for planes in memory). None when the image has no such plane.

        Parameters
        ----------
        which : {'data', 'noise', 'flags'}
            The plane.
        """
        view = self.get_data_view(which)
        return None if view is None else PixelSource(view, file_key=self._pixel_file_key(which))

    def _pixel_file_key(self, which: str) -> tuple | None:
        """Identity of the file version plane ``which`` is mapped from (None: not from a file).

        None here: the planes of an image held as arrays are keyed on their buffers; classes
        that map their file say which version they read.
        """
        return None

    def pixel_mask(self, mask: Any) -> PixelMask | None:
        """Resolve a ``mask=`` argument against this image (:func:`~snapscope.image.resolve_mask`).

        Photometry and tiles read ``mask`` through this one function.

        Parameters
        ----------
        mask : None, 'flags', int, bool array-like or PixelMask
            None (or 0, False): nothing; ``'flags'``: any flag bit set; an int: those flag
            bits; a bool array of the image's shape: True = bad. The flags plane is opened
            only when ``mask`` names it.

        Returns
        -------
        PixelMask or None
            A lazy boolean plane (True = bad); ``np.asarray`` of it is the whole mask.

        Raises
        ------
        ValueError
            For a mask the vocabulary refuses (the message names the accepted forms).
        TypeError
            For a ``mask`` of another type.
        """
        return resolve_mask(mask, self.image_shape, lambda: self.pixel_source("flags"))

    def free(self) -> None:
        """Drop the loaded pixel planes (header and WCS are kept)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement free")

    def fraction_masked(self) -> float:
        """Fraction of pixels with any flag bit set (NaN data pixels when there are no flags)."""
        flags = self.get_data_view("flags")
        if flags is not None:
            return float(np.count_nonzero(flags)) / flags.size
        data = self.get_data_view("data")
        return float(np.count_nonzero(~np.isfinite(data))) / data.size

    # ------------------------------------------------------------------- WCS
    def get_wcs(self, wcsclass: str | None = None) -> Any:
        """Return the image's WCS, a :class:`snapscope.wcs.BaseWCS` (cached)."""
        raise NoWCSError(f"{type(self).__name__} has no WCS")

    @property
    def coord_center(self) -> tuple[float, float]:
        """(RA, Dec) in degrees of pixel (W//2, H//2), as snappl computes it."""
        return self.get_wcs().pixel_to_world(self.width // 2, self.height // 2)

    def includes_radec(self, ra: Any, dec: Any) -> Any:
        """Whether (ra, dec) (degrees) falls on the image: ``-0.5 <= x < W-0.5`` and likewise y.

        Scalars give a ``bool``; arrays give a boolean array. Points the projection cannot
        reach (e.g. the far side of the sky) are outside.
        """
        x, y = self.get_wcs().world_to_pixel(ra, dec)
        x, y = np.asarray(x, float), np.asarray(y, float)
        with np.errstate(invalid="ignore"):
            inside = (x >= -0.5) & (x < self.width - 0.5) & (y >= -0.5) & (y < self.height - 0.5)
        return bool(inside) if inside.ndim == 0 else inside

    # --------------------------------------------------------------- cutouts
    def get_cutout(
        self, x: Any, y: Any, xsize: int, ysize: int | None = None, mode: str = "strict",
        fill_value: float = np.nan,
    ) -> Image:
        """Cut out ``ysize × xsize`` pixels centred on pixel (x, y); see ``Numpy2DImage``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_cutout")

    def get_ra_dec_cutout(
        self, ra: float, dec: float, xsize: int, ysize: int | None = None, mode: str = "strict",
        fill_value: float = np.nan,
    ) -> Image:
        """Cut out ``ysize × xsize`` pixels centred on the pixel nearest to (ra, dec).

        The centre is the nearest pixel, ``floor(v + 0.5)``, of the WCS position.

        Raises
        ------
        snapscope.exceptions.OutsideImageError
            If the cutout does not touch the image (both modes); it is also an
            ``astropy.nddata.NoOverlapError``, as snappl raises.
        astropy.nddata.PartialOverlapError
            If ``mode='strict'`` and the cutout is not entirely on the image.
        """
        from snapscope.image._cutout import CutoutOutsideImageError, outside_image

        x, y = self.get_wcs().world_to_pixel(ra, dec)
        where = f"(ra, dec) = ({ra}, {dec})"
        if not (np.isfinite(x) and np.isfinite(y)):
            raise outside_image(self, f"{where}, which has no pixel position on the image plane,")
        try:
            return self.get_cutout(math.floor(x + 0.5), math.floor(y + 0.5), xsize, ysize, mode=mode,
                                   fill_value=fill_value)
        except CutoutOutsideImageError as err:
            raise type(err)(f"{where}, pixel (x, y) = ({x:.1f}, {y:.1f}): {err}") from None

    # ------------------------------------------------------------ photometry
    def ap_phot(self, coords: Any, ap_r: float = 9, method: str = "subpixel", subpixels: int = 5,
                bgsize: int = 511, **kwargs: Any) -> Any:
        """Aperture photometry at 0-origin pixel positions (:func:`~snapscope.image._photometry.ap_phot`)."""
        from snapscope.image._photometry import ap_phot

        return ap_phot(self, coords, ap_r=ap_r, method=method, subpixels=subpixels, bgsize=bgsize,
                       **kwargs)

    def psf_phot(self, init_params: Any, psf: Any, forced_phot: bool = True,
                 fit_shape: tuple[int, int] = (5, 5), bginner: float = 15, bgouter: float = 25,
                 return_resid_image: bool = False, mask: Any = None) -> Any:
        """PSF photometry with local background; see :func:`snapscope.image._photometry.psf_phot`."""
        from snapscope.image._photometry import psf_phot

        return psf_phot(self, init_params, psf, forced_phot=forced_phot, fit_shape=fit_shape,
                        bginner=bginner, bgouter=bgouter, return_resid_image=return_resid_image,
                        mask=mask)

    def forced_psf_phot(self, coords: Any, psf: Any, fit_shape: tuple[int, int] = (5, 5),
                        bginner: float = 15, bgouter: float = 25, mask: Any = None) -> Any:
        """PSF fluxes at fixed positions: ``psf_phot``'s numbers, ~10× faster (not in snappl).

        See :func:`snapscope.image._photometry.forced_psf_phot`.
        """
        from snapscope.image._photometry import forced_psf_phot

        return forced_psf_phot(self, coords, psf, fit_shape=fit_shape, bginner=bginner,
                               bgouter=bgouter, mask=mask)

    # ------------------------------------------------------------------ save
    def save(self, which: str = "all", path: Any = None, imagepath: Any = None,
             noisepath: Any = None, flagspath: Any = None, overwrite: bool = False) -> None:
        """Write the image to its file(s); implemented by file-backed subclasses."""
        raise NotImplementedError(f"{type(self).__name__} cannot be saved")

    def save_data(self, which: str = "all", path: Any = None, imagepath: Any = None,
                  noisepath: Any = None, flagspath: Any = None, overwrite: bool = False) -> None:
        """Same as :meth:`save` (kept for compatibility)."""
        self.save(which=which, path=path, imagepath=imagepath, noisepath=noisepath,
                  flagspath=flagspath, overwrite=overwrite)

    # -------------------------------------------------------------- database
    def db_row(self) -> dict[str, Any]:
        """Return this image's ``l2image`` row (header values are read lazily, pixels never)."""
        fmt = self._format if self._format != -1 else self._default_db_format
        row: dict[str, Any] = {
            "id": self.id,
            "provenance_id": self.provenance_id,
            "filepath": None if self.filepath is None else str(self.filepath),
            "width": self.width,
            "height": self.height,
            "format": fmt,
        }
        for name in ("observation_id", "sca", "ra", "dec", *CORNER_NAMES, "band", "mjd",
                     "position_angle", "exptime"):
            row[name] = getattr(self, name)
        return row

    @classmethod
    def get_image(cls, image_id: Any, dbclient: Any = None) -> Image:
        """Get an image from the catalogue by its id (needs :mod:`snapscope.db`)."""
        return _db_images().get_image(image_id, dbclient=dbclient)

    @classmethod
    def find_images(cls, provenance: Any = None, provenance_tag: str | None = None,
                    process: str | None = None, dbclient: Any = None, **kwargs: Any) -> list[Image]:
        """Search the catalogue; see :func:`snapscope.db._images.find_images` for the filters."""
        return _db_images().find_images(provenance=provenance, provenance_tag=provenance_tag,
                                        process=process, dbclient=dbclient, **kwargs)

    def save_to_db(self, dbclient: Any = None) -> dict[str, Any]:
        """Write this image's row to the catalogue (no files are written)."""
        return _db_images().save_image(self, dbclient=dbclient)

    @classmethod
    def bulk_save_to_db(cls, images: list[Image], dbclient: Any = None) -> int:
        """Write many rows in one transaction (COPY); nothing is written if any row fails."""
        return _db_images().bulk_save_images(images, dbclient=dbclient)


def _db_images() -> Any:
    """Import the database layer, or say clearly why it is not available."""
    from snapscope.exceptions import DatabaseNeededError

    try:
        from snapscope.db import _images
    except ImportError as err:
        raise DatabaseNeededError(
            f"this needs the image catalogue (snapscope.db), which cannot be imported: {err}. "
            "Install snapscope with its dependencies (psycopg) and start a database with "
            "`snapscope db start`, or set SNAPSCOPE_DSN."
        ) from err
    return _images


def position_angle_of(wcs: Any, nx: int, ny: int) -> float:
    """Position angle (degrees, (-180, 180]) of the image's y axis, snappl's algorithm.

    Steps one pixel left and one pixel up from ``(nx/2, ny/2)`` and measures both directions on
    the sky; unlike snappl, RA differences are wrapped into (-180, 180], so an image on RA = 0
    gets the right angle.

    Raises
    ------
    ValueError
        If the two directions disagree by more than 3° (a strongly sheared WCS).
    """
    ras, decs = wcs.pixel_to_world([nx / 2, nx / 2 - 1, nx / 2], [ny / 2, ny / 2, ny / 2 + 1])
    cosdec = math.cos(math.radians(decs[0]))

    def dra(a: float) -> float:
        return ((a - ras[0] + 180.0) % 360.0 - 180.0) * cosdec

    dleftra, dleftdec = dra(ras[1]), decs[1] - decs[0]
    dupra, dupdec = dra(ras[2]), decs[2] - decs[0]
    cross_z = -(dupra * dleftdec - dupdec * dleftra)
    if cross_z > 0:
        leftang = math.degrees(math.atan2(dleftdec, dleftra))
        upang = math.degrees(math.atan2(-dupra, dupdec))
    else:
        leftang = math.degrees(math.atan2(dleftdec, -dleftra))
        upang = math.degrees(math.atan2(dupra, dupdec))
    if leftang * upang < 0 and abs(abs(leftang) - 180) < 3 and abs(abs(upang) - 180) < 3:
        leftang += 360 if leftang < 0 else 0
        upang += 360 if upang < 0 else 0
    if abs(leftang - upang) > _CLOSE_ENOUGH_POSITION_ANGLE:
        raise ValueError(
            f"Calculated position angle of {leftang}° looking to the left and {upang}° looking up; "
            "these are inconsistent!"
        )
    angle = (leftang + upang) / 2
    return angle - 360 if angle > 180 else angle
