"""The overview of a big uncached image: a sampled preview first, then the exact tile replaces it."""

from __future__ import annotations

import pytest
from servers import voila_notebook_server, wait_for
from test_widget_browser import check_pixels
from widget_page import fail_on_traceback, settled

pytestmark = pytest.mark.browser

# The ramp plus a ±30 checkerboard: the exact overview (4×4 block means) is the plain ramp, the
# preview (one sampled pixel per block, all on the +30 squares) is 25 gray levels brighter.
# The threshold is lowered so that this small image takes the big-image path.
PREVIEW_CELL = """
import numpy as np
from snapscope.image import Numpy2DImage
from snapscope.widgets import ImageWidget, _tile_server
import widget_page

_tile_server.EAGER_OVERVIEW_PIXELS = 1000
y, x = np.mgrid[: widget_page.SHAPE[0], : widget_page.SHAPE[1]]
data = widget_page.ramp() + np.where((x + y) % 2, -30.0, 30.0).astype(np.float32)
w = ImageWidget(height="120px")
w.load_image(Numpy2DImage(data=data, wcs=widget_page.ramp_wcs()), image_label="checkered ramp")
w.set_cuts(widget_page.CUTS)
w
"""


@pytest.fixture(scope="module")
def voila(tmp_path_factory, jupyter_env):
    server = voila_notebook_server(tmp_path_factory.mktemp("voila_preview"), "preview.ipynb",
                                   [PREVIEW_CELL], jupyter_env)
    yield server
    server.stop()


def test_exact_overview_replaces_the_preview(page, voila):
    page.goto(voila.url(), wait_until="domcontentloaded")

    def exact_drawn():
        fail_on_traceback(page)
        s = settled(page)
        return s if s and int(s.get("received", 0)) >= 2 else None

    s = wait_for(exact_drawn, timeout=90, what="the exact overview after the preview")
    assert s["level"] == "2"  # the view shows the overview level itself
    check_pixels(page, 0, s)  # the plain ramp: the exact block means, not the sampled preview
