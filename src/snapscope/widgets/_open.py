"""Opening an image in the linked ``ImageWidget`` (shared by the search form and the cutouts).

Every linked widget opens images under one label, :data:`LINKED_LABEL`: a new image replaces the
previous one and keeps its cuts, stretch and colormap, so stepping through epochs compares like
with like, and the viewer does not accumulate hundreds of images. The file name goes to the
caller's status line. Only the viewer's public AIDA methods are used.
"""

from __future__ import annotations

from typing import Any

from snapscope.widgets._fields import one_line

__all__ = ["LINKED_LABEL", "open_in_viewer"]

#: The ImageWidget label under which linked widgets show an image.
LINKED_LABEL = "linked image"


def open_in_viewer(viewer: Any, image: Any, position: tuple[float, float] | None) -> str | None:
    """Show ``image`` in ``viewer``, centred on ``position`` when it is on the image.

    Returns
    -------
    str or None
        Why it could not be opened (one line), or None when it was.
    """
    try:
        viewer.load_image(image, image_label=LINKED_LABEL)
        if position is not None and image.includes_radec(*position):
            viewer.center_on(*position, image_label=LINKED_LABEL)
    except Exception as err:  # noqa: BLE001 - an unreadable file becomes a status line
        return f"cannot open {image.filename}: {one_line(err)}"
    return None
