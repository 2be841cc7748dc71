"""Cuts, stretch and colormap of ``ImageWidget`` (AIDA ``set/get_cuts|stretch|colormap``).

Only these few numbers travel on a change (``_displays`` trait, see ``_traits.py``): the
browser's shader applies them to the float tiles it already holds, so no pixels are re-sent.
"""

from __future__ import annotations

import numbers
from typing import Any

from ._inputs import ImageEntry
from ._pyramids import colormap_lut
from ._traits import (
    as_interval,
    compute_limits,
    default_cuts,
    default_stretch,
    sample_values,
    stretch_spec,
)

__all__ = ["DisplayMixin", "DEFAULT_CMAP"]

#: Colormap used while ``get_colormap`` returns None.
DEFAULT_CMAP = "gray"


class DisplayMixin:
    """AIDA display methods.

    Needs ``_entries``, ``_resolve_image_label`` and ``_set_traits``.
    """

    def _limits(self, entry: ImageEntry) -> tuple[float, float]:
        if "sample" not in entry.cache:
            entry.cache["sample"] = sample_values(entry.array, entry.mask)
        return compute_limits(entry.cuts, entry.cache["sample"])

    def _display_traits(self) -> dict[str, Any]:
        out = {}
        for entry in self._entries.values():
            vmin, vmax = self._limits(entry)
            cmap = entry.colormap or DEFAULT_CMAP
            out[entry.key] = {
                "vmin": vmin,
                "vmax": vmax,
                "stretch": stretch_spec(entry.stretch),
                "cmap": cmap,
                "cmap_lut": colormap_lut(cmap),
            }
        return out

    def _apply_display(self) -> None:
        self._set_traits(_displays=self._display_traits())

    def set_cuts(
        self,
        cuts: tuple[numbers.Real, numbers.Real] | Any,
        image_label: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Set the cuts: a ``(low, high)`` pair or any astropy interval.

        Percentile-type intervals are evaluated on a strided sample of the full-resolution
        pixels (at most 2**18), so they cost the same for any image size.

        Parameters
        ----------
        cuts : tuple or astropy.visualization.BaseInterval
        image_label : str, optional
            The image; may be omitted when only one is loaded.
        **kwargs
            Ignored.

        Raises
        ------
        TypeError
            "Cuts must be …" for anything else.
        """
        interval = as_interval(cuts)
        self._entries[self._resolve_image_label(image_label)].cuts = interval
        self._apply_display()

    def get_cuts(self, image_label: str | None = None, **kwargs: Any) -> Any:
        """Return the cuts (an astropy interval) of an image.

        Parameters
        ----------
        image_label : str, optional
        **kwargs
            Ignored.
        """
        entry = self._entries[self._resolve_image_label(image_label)]
        if entry.cuts is None:
            entry.cuts = default_cuts()
        return entry.cuts

    def set_stretch(self, stretch: Any, image_label: str | None = None, **kwargs: Any) -> None:
        """Set the stretch: any astropy stretch (applied in the browser's shader).

        Parameters
        ----------
        stretch : astropy.visualization.BaseStretch
        image_label : str, optional
        **kwargs
            Ignored.

        Raises
        ------
        TypeError
            "Stretch … is not valid" for anything else (the stretch is unchanged).
        """
        from astropy.visualization import BaseStretch

        if not isinstance(stretch, BaseStretch):
            raise TypeError(
                f"Stretch option {stretch!r} is not valid. Must be an "
                "`astropy.visualization` Stretch object."
            )
        self._entries[self._resolve_image_label(image_label)].stretch = stretch
        self._apply_display()

    def get_stretch(self, image_label: str | None = None, **kwargs: Any) -> Any:
        """Return the stretch (an astropy stretch) of an image.

        Parameters
        ----------
        image_label : str, optional
        **kwargs
            Ignored.
        """
        entry = self._entries[self._resolve_image_label(image_label)]
        if entry.stretch is None:
            entry.stretch = default_stretch()
        return entry.stretch

    def set_colormap(self, map_name: str, image_label: str | None = None, **kwargs: Any) -> None:
        """Set the colormap, by Matplotlib name.

        Parameters
        ----------
        map_name : str
        image_label : str, optional
        **kwargs
            Ignored.

        Raises
        ------
        ValueError
            "… is not a valid colormap" for an unknown name.
        """
        colormap_lut(map_name)
        self._entries[self._resolve_image_label(image_label)].colormap = map_name
        self._apply_display()

    def get_colormap(self, image_label: str | None = None, **kwargs: Any) -> str | None:
        """Return the colormap name of an image (None: the default, gray).

        Parameters
        ----------
        image_label : str, optional
        **kwargs
            Ignored.
        """
        return self._entries[self._resolve_image_label(image_label)].colormap
