"""snapscope: look at, search and measure Roman supernova images in Jupyter.

The public modules mirror snappl's (``snapscope.image``, ``snapscope.wcs``, ``snapscope.psf``,
``snapscope.imagecollection``, ``snapscope.provenance``), so replacing ``snappl`` by
``snapscope`` in an import just works. Importing ``snapscope`` itself stays light: nothing
below is imported until it is used.
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "demo_survey", "explore"]


def __getattr__(name: str) -> Any:
    if name == "demo_survey":
        from snapscope._demo import demo_survey

        return demo_survey
    if name == "explore":
        from snapscope.widgets import explore

        return explore
    raise AttributeError(f"module 'snapscope' has no attribute {name!r}")
