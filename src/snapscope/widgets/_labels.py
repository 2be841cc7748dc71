"""Label resolution shared by images and catalogs (the AIDA 0.3.0 rules).

A ``None`` label means "the only one"; loading without a label uses one shared default label,
so repeated unlabeled loads replace each other.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["DEFAULT_LABEL", "resolve_label"]

#: Label of the image or catalog loaded without a label.
DEFAULT_LABEL = "default"


def resolve_label(registry: Mapping, label: str | None, kind: str, allow_new: bool = False) -> str:
    """Return the label an operation applies to.

    Parameters
    ----------
    registry : Mapping
        The loaded images or catalogs, keyed by label.
    label : str or None
        The label the user gave.
    kind : {"image", "catalog"}
        Used in the error messages.
    allow_new : bool, optional
        True for a load: a new label is fine and None means :data:`DEFAULT_LABEL`.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``label`` is not loaded, or it is None and nothing or several things are loaded.
    """
    article = "an image" if kind == "image" else "a catalog"
    if label is not None:
        if not allow_new and label not in registry:
            raise ValueError(
                f"{kind.capitalize()} label {label!r} not found. Please load {article} first."
            )
        return label
    if allow_new:
        return DEFAULT_LABEL
    if not registry:
        raise ValueError(f"No {kind} is loaded. Please load {article} first.")
    if len(registry) > 1:
        raise ValueError(
            f"Multiple {kind} labels defined ({', '.join(map(repr, registry))}). "
            f"Please specify a {kind}_label to select one."
        )
    return next(iter(registry))
