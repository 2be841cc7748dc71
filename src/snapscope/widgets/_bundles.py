"""The front-end bundles: one self-contained ESM file per widget class.

``build.mjs`` (esbuild) writes them from ``js/src`` into ``snapscope/static/``; they are not in
git, and ``pyproject.toml`` lists them as built artifacts, so the sdist and the wheel carry them
(``tests/unit/test_packaging.py`` checks that the three lists agree).

Decisions
---------
* **One file per widget class, not one bundle for all.** anywidget sends a widget's ``_esm``
  text with each widget's state, so a table carrying the image viewer (~55 kB) would cost that
  for every table of an Explorer; the linked views are ~3 kB each.
* **No shared chunks.** anywidget loads each file alone (from a blob URL), so a chunk imported by
  a relative path could not be found; what the views share (``js/src/views/linkedView.ts``) is
  bundled into each.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUNDLES", "STATIC", "bundle"]

STATIC = Path(__file__).resolve().parent.parent / "static"

#: Bundle names (``<name>.js`` in ``static/``): the ImageWidget/CompareView viewer and the
#: two linked views.
BUNDLES = ("widget", "datatable", "thumbnails")


def bundle(name: str) -> Path:
    """Path of the built bundle ``name`` (one of `BUNDLES`).

    Parameters
    ----------
    name : str
        The bundle's name, e.g. ``"widget"``.

    Returns
    -------
    pathlib.Path
        ``static/<name>.js`` inside the installed package.

    Raises
    ------
    ValueError
        For a name that is not in `BUNDLES`.
    """
    if name not in BUNDLES:
        raise ValueError(f"no front-end bundle {name!r}; the bundles are {BUNDLES}")
    return STATIC / f"{name}.js"
