"""Cuts, stretch and colormap of ``ImageWidget`` (AIDA ``set/get_cuts|stretch|colormap``).

Only these few numbers travel on a change (``_displays`` trait, see ``_traits.py``): the
browser's shader applies them to the float tiles it already holds, so no pixels are re-sent.

The viewer's display control (``js/src/ui/displayControl.ts``) repaints at once from its own
copy of ``_displays`` and writes it back; :meth:`DisplayMixin._displays_from_browser` turns
what changed into astropy objects on the image's entry (the one owner of the state: what
``get_cuts``, ``get_stretch``, ``get_colormap`` and ``save`` use) and re-sends the normalised
``_displays``, so every view ends on Python's limits. A value Python rejects is logged in
``errors`` and ``_last_error``, and the views go back to Python's state.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._inputs import ImageEntry
from ._pyramids import colormap_lut
from ._state import Display, ManualCuts
from ._traits import (
    as_interval,
    compute_limits,
    cuts_spec,
    default_cuts,
    default_stretch,
    interval_from_spec,
    sample_quantiles,
    sample_values,
    stretch_from_spec,
    stretch_spec,
)

__all__ = ["DisplayMixin", "DEFAULT_CMAP", "control_colormaps"]

#: Colormap used while ``get_colormap`` returns None.
DEFAULT_CMAP = "gray"


def control_colormaps() -> dict[str, bytes]:
    """Tables of the colormaps the browser's display control offers (``_colormaps`` trait).

    The built-in ones (no matplotlib import); their ``_r`` reverses are the same tables
    reversed, which the browser does itself. Another colormap set from Python is offered too,
    from its own table in ``_displays``.
    """
    from snapscope.tiles import COLORMAPS

    return {name: colormap_lut(name) for name in COLORMAPS}


class DisplayMixin:
    """AIDA display methods.

    Needs ``_entries``, ``_entry_by_key``, ``_resolve_image_label``, ``_set_traits``,
    ``_from_python``, ``errors`` and the ``_displays`` trait.
    """

    def _sample(self, entry: ImageEntry) -> np.ndarray:
        """The strided sample every percentile-type cut of this image is computed on."""
        if "sample" not in entry.cache:
            entry.cache["sample"] = sample_values(entry.array, entry.mask)
        return entry.cache["sample"]

    def _quantiles(self, entry: ImageEntry) -> dict[str, Any] | None:
        """The quantile table of the image's sample (``ImageInfo.quantiles``), made once."""
        if "quantiles" not in entry.cache:
            entry.cache["quantiles"] = sample_quantiles(self._sample(entry))
        return entry.cache["quantiles"]

    def _limits(self, entry: ImageEntry) -> tuple[float, float]:
        return compute_limits(entry.cuts, self._sample(entry), self._quantiles(entry))

    def _display_traits(self) -> dict[str, Display]:
        out = {}
        for entry in self._entries.values():
            vmin, vmax = self._limits(entry)
            cmap = entry.colormap or DEFAULT_CMAP
            out[entry.key] = Display(
                vmin=vmin,
                vmax=vmax,
                stretch=stretch_spec(entry.stretch),
                cmap=cmap,
                cmap_lut=colormap_lut(cmap),
                cuts=cuts_spec(entry.cuts),
            )
        return out

    def _displays_from_browser(self, proposed: dict[str, Display]) -> None:
        """Apply what the browser's display control changed, then re-send Python's state."""
        try:
            current = self._display_traits()
            updates = []
            for key, wanted in proposed.items():
                entry = self._entry_by_key(key)
                if entry is not None:
                    updates.append((entry, self._display_update(current[key], wanted)))
            for entry, changed in updates:  # all checked first: a bad value changes nothing
                for name, value in changed.items():
                    setattr(entry, name, value)
        except (ValueError, TypeError, KeyError) as exc:
            self._last_error = self.errors.record(exc, "display control").strip().splitlines()[-1]
        self._apply_display()

    @staticmethod
    def _display_update(current: Display, wanted: Display) -> dict[str, Any]:
        """Entry attributes (``cuts``, ``stretch``, ``colormap``) that ``wanted`` changes."""
        out: dict[str, Any] = {}
        if wanted.cmap != current.cmap:
            colormap_lut(wanted.cmap)  # ValueError for an unknown name
            out["colormap"] = wanted.cmap
        stretch, now = wanted.stretch, current.stretch
        if (stretch.name, stretch.params) != (now.name, now.params):
            out["stretch"] = stretch_from_spec(stretch.to_json())
        limits = (wanted.vmin, wanted.vmax)
        if wanted.cuts != current.cuts or (
            isinstance(wanted.cuts, ManualCuts) and limits != (current.vmin, current.vmax)
        ):
            out["cuts"] = interval_from_spec(wanted.cuts.to_json(), *limits)
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
