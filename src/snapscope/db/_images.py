"""The database side of ``Image.find_images``, ``get_image``, ``save_to_db``, ``bulk_save_to_db``.

These four functions (exactly these) are what :class:`snapscope.image.Image`'s classmethods
delegate to (the contract in ``docs/internals.md``). Rows go in through ``image.db_row()``
and come back as the right Image subclass through ``snapscope.image.image_from_db_row(row)``
(chosen by the ``format`` column). Filters: see :mod:`snapscope.db._query`.

Decisions: an image saved without an ``id`` gets a new UUID (version 7: time-ordered, then
random; set on the object too); an image without ``ra``/``dec`` gets the centre of its corners;
an image without corners cannot be catalogued (ValueError: it could never be found by
position). A filepath already in the catalogue is a
:class:`~snapscope.exceptions.DatabaseError` and nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from snapscope.db import _bulk, _query, _save, get_client

__all__ = ["find_images", "get_image", "save_image", "bulk_save_images"]


def find_images(
    provenance: Any = None,
    provenance_tag: str | None = None,
    process: str | None = None,
    dbclient: Any = None,
    **kwargs: Any,
) -> list:
    """Search the catalogue and return matching images (no pixels are read).

    Parameters
    ----------
    provenance : Provenance, UUID or str, optional
        Only images of this provenance.
    provenance_tag, process : str, optional
        Only images of the provenance that this tag names for this process (give both).
    dbclient : DBClient or str, optional
        The catalogue (default: ``SNAPSCOPE_DSN`` or the embedded server).
    **kwargs
        Filters: equality (``band='Y106'``, ``sca=[1, 2]``), ranges (``mjd_min=``,
        ``mjd_max=``, any numeric column), position (``ra=, dec=``: footprint contains the
        point; with ``radius=`` in degrees: footprint intersects the circle), ``order_by``
        (``'mjd'``, ``['band', '-mjd']``), ``limit``, ``offset``.

    Returns
    -------
    list of Image
        Instances of the subclass recorded in each row's ``format``.

    Raises
    ------
    snapscope.exceptions.UnknownFilterError
        An unknown filter key (the message lists the allowed ones).
    ValueError
        Conflicting provenance arguments, or a value of the wrong type.
    """
    from snapscope.image import image_from_db_row

    rows = _query.find_rows(
        provenance=provenance,
        provenance_tag=provenance_tag,
        process=process,
        dbclient=dbclient,
        **kwargs,
    )
    return [image_from_db_row(row) for row in rows]


def get_image(image_id: Any, dbclient: Any = None) -> Any:
    """Return the catalogued image with this id (UUID or str).

    Raises
    ------
    KeyError
        If no image has this id.
    """
    from snapscope.image import image_from_db_row

    try:
        image_id = image_id if isinstance(image_id, uuid.UUID) else uuid.UUID(str(image_id))
    except ValueError:
        raise ValueError(f"get_image: {image_id!r} is not an image id (a UUID)") from None
    rows = _query.find_rows(dbclient=dbclient, id=image_id)
    if not rows:
        raise KeyError(f"no image with id {image_id} in the catalogue")
    return image_from_db_row(rows[0])


def _rows_to_columns(rows: list[dict[str, Any]]) -> dict[str, list]:
    cols: dict[str, list] = {}
    for name, _ in _bulk.COLUMNS:
        if name not in _bulk.COMPUTED:
            cols[name] = [r.get(name) for r in rows]
    return cols


def _image_rows(images: Iterable[Any]) -> tuple[list, list[dict[str, Any]]]:
    images = list(images)
    rows = []
    for im in images:
        row = dict(im.db_row())
        if any(row.get(c) is None for c in (*_bulk.RA_CORNERS, *_bulk.DEC_CORNERS)):
            raise ValueError(
                f"cannot catalogue {row.get('filepath')!r}: its corners are unknown "
                "(no WCS?); the catalogue finds images by their footprint"
            )
        if row.get("provenance_id") is None:
            raise ValueError(
                f"cannot catalogue {row.get('filepath')!r}: it has no provenance_id; "
                "set image.provenance_id = prov.id (after prov.save_to_db())"
            )
        rows.append(row)
    return images, rows


def save_image(image: Any, dbclient: Any = None) -> dict[str, Any]:
    """Write one image's row; return the row written (as :func:`find_rows` would return it).

    Raises
    ------
    ValueError
        The image has no corners or no provenance_id.
    snapscope.exceptions.DatabaseError
        Its filepath or id is already catalogued, or its provenance is not saved.
    """
    images, rows = _image_rows([image])
    prepared = _bulk.prepare(_rows_to_columns(rows))
    _save.write(get_client(dbclient), prepared)
    (image_id,) = _bulk.uuids(prepared["id"])
    if getattr(image, "id", None) is None:
        image.id = image_id
    return _query.find_rows(dbclient=dbclient, id=image_id)[0]


def bulk_save_images(images: Iterable[Any], dbclient: Any = None) -> int:
    """Write many images' rows with one COPY in one transaction; return how many were written.

    Nothing is written if any row fails (duplicate filepath or id, unsaved provenance, bad
    footprint). Images without an id get one (set on the objects after the commit). For
    millions of rows, save their columns with :func:`snapscope.db.save_columns` instead
    (no Image objects, chunked, a progress bar).
    """
    images, rows = _image_rows(images)
    if not rows:
        return 0
    prepared = _bulk.prepare(_rows_to_columns(rows))
    client = get_client(dbclient)
    written = _save.write(client, prepared)
    _bulk.settle(client, len(written))
    for im, new_id in zip(images, _bulk.uuids(prepared["id"]), strict=True):
        if getattr(im, "id", None) is None:
            im.id = new_id
    return len(written)
