"""``ImageCollection.get_collection('snpitdb', ...)``: the images of one provenance.

Same interface as snappl's ``ImageCollectionDB``: ``get_image(image_id=None, path=None,
observation_id=None, band=None, sca=None, ...)`` and ``find_images(**filters)``, both limited to
the collection's provenance. ``base_path``: where the files are, when it is not the one that
the rows' ``format`` implies (``SNAPSCOPE_IMAGES`` / ``SNAPSCOPE_OU24_IMAGES``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from snapscope.db import _query

__all__ = ["ImageCollectionDB"]


class ImageCollectionDB:
    """The catalogued images of one provenance.

    Parameters
    ----------
    provenance : Provenance, UUID or str
        The provenance of the collection.
    dbclient : DBClient or str, optional
        The catalogue (default client when None).
    base_path : str or Path, optional
        Directory the stored relative filepaths are relative to (overrides the format's).
    """

    def __init__(
        self, provenance: Any, dbclient: Any = None, base_path: Any = None, **kwargs: Any
    ) -> None:
        if provenance is None:
            raise ValueError("ImageCollectionDB needs a provenance")
        if kwargs:
            raise ValueError(f"ImageCollectionDB got unknown arguments {sorted(kwargs)}")
        self.provenance = provenance
        self.dbclient = dbclient
        self.base_path = None if base_path is None else Path(base_path).resolve()

    def __repr__(self) -> str:
        pid = getattr(self.provenance, "id", self.provenance)
        return f"<ImageCollectionDB provenance={pid}>"

    def _build(self, row: dict[str, Any]) -> Any:
        from snapscope.image import image_class_for_format, image_from_db_row

        if self.base_path is None or Path(row["filepath"]).is_absolute():
            return image_from_db_row(row)
        kwargs = {k: v for k, v in row.items() if v is not None}
        return image_class_for_format(row["format"])(base_path=self.base_path, **kwargs)

    def get_image_path(
        self, observation_id: Any = None, band: Any = None, sca: Any = None, base_path: Any = None
    ) -> Path:
        """Return the full path of the one image with this observation, band and SCA."""
        image = self.get_image(observation_id=observation_id, band=band, sca=sca)
        base = Path(base_path) if base_path is not None else None
        return base / image.filepath if base is not None else Path(image.full_filepath)

    def get_image(
        self,
        image_id: Any = None,
        path: Any = None,
        observation_id: Any = None,
        band: Any = None,
        sca: Any = None,
        base_path: Any = None,
        dbclient: Any = None,
    ) -> Any:
        """Return one image, by id, by filepath, or by observation_id + band + sca.

        Raises
        ------
        ValueError
            Nothing to look it up by.
        LookupError
            No image, or more than one, matches.
        """
        client = dbclient if dbclient is not None else self.dbclient
        filters: dict[str, Any] = {}
        if image_id is not None:
            filters["id"] = image_id
        if path is not None:
            filters["filepath"] = str(path)
        for key, value in (("observation_id", observation_id), ("band", band), ("sca", sca)):
            if value is not None:
                filters[key] = value
        if not filters:
            raise ValueError("get_image needs image_id, path, or observation_id/band/sca")
        found = _query.find_rows(provenance=self.provenance, dbclient=client, **filters)
        if len(found) != 1:
            raise LookupError(f"{len(found)} images match {filters} in {self!r} (need exactly 1)")
        return self._build(found[0])

    def find_images(self, **kwargs: Any) -> list:
        """``Image.find_images`` limited to this collection's provenance."""
        client = kwargs.pop("dbclient", None) or self.dbclient
        return [
            self._build(row)
            for row in _query.find_rows(provenance=self.provenance, dbclient=client, **kwargs)
        ]
