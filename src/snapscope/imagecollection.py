"""Image collections with snappl's interface: ``ImageCollection.get_collection(…)``.

Collections: ``'snpitdb'`` (the PostgreSQL catalogue, :mod:`snapscope.db`), ``'ou2024'``
(OpenUniverse 2024 files under a base directory, ``{base}/{band}/{pointing}/Roman_TDS_simple_model_
{band}_{pointing}_{sca}.fits[.gz]``), ``'manual_fits'`` (FITS files under a base directory; subset
``'threefile'`` for ``_image/_noise/_flags.fits`` triples) and ``'manual_rdm'`` (Roman ASDF files).

Differences from snappl: ``ImageCollectionOU2024`` also finds uncompressed ``.fits`` files and
``find_images`` searches the files on disk (snappl asks an external web service); error messages
name the values (snappl's lack an f-prefix).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from snapscope.config import config_value

__all__ = [
    "ImageCollection",
    "ImageCollectionOU2024",
    "ImageCollectionManualFITS",
    "ImageCollectionManualRDM",
]


class ImageCollection:
    """Factory of image collections."""

    @classmethod
    def get_collection(cls, collection: str = "snpitdb", subset: str | None = None,
                       provenance_tag: str | None = None, process: str | None = None,
                       provenance: Any = None, dbclient: Any = None, **kwargs: Any) -> Any:
        """Return the collection object named ``collection``.

        Parameters
        ----------
        collection : {'snpitdb', 'ou2024', 'manual_fits', 'manual_rdm'}
            Which collection.
        subset : str, optional
            ``'threefile'`` for ``manual_fits`` triples; otherwise None.
        provenance_tag, process, provenance : optional
            Select the database provenance (``'snpitdb'`` only).
        dbclient : optional
            Database client (``'snpitdb'`` only).
        **kwargs
            ``base_path`` and other arguments of the collection class.
        """
        if collection == "snpitdb":
            from snapscope.db._collection import ImageCollectionDB

            if provenance is None and (provenance_tag is None or process is None):
                raise ValueError("the snpitdb collection needs provenance, or both provenance_tag "
                                 "and process")
            if provenance is None:
                from snapscope.provenance import Provenance

                provenance = Provenance.get_provs_for_tag(provenance_tag, process, dbclient=dbclient)
            return ImageCollectionDB(provenance=provenance, dbclient=dbclient, **kwargs)
        if provenance is not None or provenance_tag is not None or process is not None:
            raise ValueError(f"collection {collection!r} does not take provenance arguments")
        if collection == "ou2024" and subset is None:
            return ImageCollectionOU2024(**kwargs)
        if collection == "manual_fits" and subset in (None, "threefile"):
            return ImageCollectionManualFITS(threefile=subset == "threefile", **kwargs)
        if collection == "manual_rdm" and subset is None:
            return ImageCollectionManualRDM(**kwargs)
        raise ValueError(f"Unknown image collection {collection} (subset {subset}); known: "
                         "snpitdb, ou2024, manual_fits (subset threefile), manual_rdm")


def _base(base_path: Any, config_key: str | None, name: str) -> Path:
    value = base_path if base_path is not None else (config_value(config_key) if config_key else None)
    if value is None:
        hint = f" or set {config_key!r} via snapscope.config" if config_key else ""
        raise RuntimeError(f"{name} collection needs a base path: give base_path={hint}")
    return Path(value).expanduser().resolve()


class ImageCollectionOU2024:
    """OpenUniverse 2024 images in their native directory layout.

    Parameters
    ----------
    base_path : str or Path, optional
        Root of the layout (default: ``SNAPSCOPE_OU24_IMAGES``).
    """

    def __init__(self, base_path: Any = None) -> None:
        self.base_path = _base(base_path, "system.ou24.images", "ou2024")

    def get_image_path(self, observation_id: Any, band: str, sca: int,
                       base_path: Any = None) -> Path:
        """Path of one image (``.fits.gz`` as OU2024, or ``.fits`` when only that exists)."""
        base = Path(base_path) if base_path is not None else self.base_path
        from snapscope.image import OpenUniverse2024FITSImage

        name = OpenUniverse2024FITSImage.filename_for(band, observation_id, sca)
        path = base / band / str(observation_id) / name
        plain = path.with_suffix("")
        return plain if not path.exists() and plain.exists() else path

    def get_image(self, image_id: Any = None, path: Any = None, observation_id: Any = None,
                  band: str | None = None, sca: int | None = None, base_path: Any = None,
                  dbclient: Any = None) -> Any:
        """Open one image by ``path`` (relative to the base or absolute) or by (obs, band, sca)."""
        from snapscope.image import OpenUniverse2024FITSImage

        if image_id is not None:
            raise ValueError("the ou2024 collection has no image ids; give path or observation_id, band, sca")
        base = Path(base_path) if base_path is not None else self.base_path
        if path is None:
            if None in (observation_id, band, sca):
                raise ValueError("give path, or all of observation_id, band and sca")
            path = self.get_image_path(observation_id, band, sca, base_path=base)
        image = OpenUniverse2024FITSImage(full_filepath=base / path, no_base_path=True)
        if not image.full_filepath.exists():
            from snapscope.exceptions import ImageFileNotFoundError

            raise ImageFileNotFoundError(f"image file not found: {image.full_filepath}")
        for name, want in (("observation_id", observation_id), ("band", band), ("sca", sca)):
            if want is not None and str(getattr(image, name)) != str(want):
                raise ValueError(f"{name} {want} inconsistent with what's in {image.full_filepath} "
                                 f"({getattr(image, name)})")
        return image

    def find_images(self, band: str | None = None, ra: float | None = None,
                    dec: float | None = None, **kwargs: Any) -> list:
        """Images under the base path, optionally of one band and containing (ra, dec)."""
        if kwargs:
            raise ValueError(f"ou2024 find_images filters are band, ra, dec; unknown: {sorted(kwargs)}")
        if (ra is None) != (dec is None):
            raise ValueError("give both ra and dec, or neither")
        pattern = f"{band or '*'}/*/Roman_TDS_simple_model_*.fits*"
        images = [self.get_image(path=p) for p in sorted(self.base_path.glob(pattern))]
        if ra is not None:
            images = [im for im in images if im.includes_radec(ra, dec)]
        return images


class ImageCollectionManualFITS:
    """FITS files under a base directory.

    Parameters
    ----------
    base_path : str or Path
        Directory the paths given to ``get_image`` are relative to.
    threefile : bool
        Images are ``_image/_noise/_flags.fits`` triples (``FITSImageStdHeaders``).
    """

    def __init__(self, base_path: Any = None, threefile: bool = False) -> None:
        if base_path is None:
            raise RuntimeError("manual_fits collection needs a base path")
        self.base_path = Path(base_path).expanduser().resolve()
        self.threefile = threefile

    def get_image(self, path: Any = None, **kwargs: Any) -> Any:
        """Open the image at ``base_path / path``."""
        from snapscope.image import FITSImage, FITSImageStdHeaders

        if path is None:
            raise ValueError("manual_fits get_image needs path=")
        full = self.base_path / path
        if self.threefile:
            return FITSImageStdHeaders(full_filepath=full, no_base_path=True, std_imagenames=True)
        return FITSImage(full_filepath=full, no_base_path=True)

    def get_image_path(self, *args: Any, **kwargs: Any) -> Path:
        """Not available: manual collections have no naming scheme."""
        raise NotImplementedError("manual_fits images have no naming scheme; use get_image(path=…)")

    def find_images(self, **kwargs: Any) -> list:
        """Not available: use the database (``'snpitdb'``) to search images."""
        raise NotImplementedError("manual_fits cannot search; ingest the files into the database")


class ImageCollectionManualRDM:
    """Roman data-model (ASDF) files under a base directory (extra ``roman``)."""

    def __init__(self, base_path: Any = None) -> None:
        if base_path is None:
            raise RuntimeError("manual_rdm collection needs a base path")
        self.base_path = Path(base_path).expanduser().resolve()

    def get_image(self, path: Any = None, **kwargs: Any) -> Any:
        """Open the ASDF image at ``base_path / path``."""
        from snapscope.image import RomanDatamodelImage

        if path is None:
            raise ValueError("manual_rdm get_image needs path=")
        full = self.base_path / path
        if not full.exists():
            raise FileNotFoundError(f"image file not found: {full}")
        return RomanDatamodelImage(full_filepath=full, no_base_path=True)
