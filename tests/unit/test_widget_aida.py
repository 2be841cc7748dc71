"""The astro-image-display-api 0.3.0 conformance suite, run against ImageWidget."""

import pytest

aida = pytest.importorskip("astro_image_display_api")  # needs Python >= 3.12

from astro_image_display_api import ImageViewerInterface  # noqa: E402
from astro_image_display_api.api_test import ImageAPITest  # noqa: E402
from test_widget_helpers import ImageWidget  # noqa: E402


def test_instance():
    assert isinstance(ImageWidget(), ImageViewerInterface)


class TestImageWidgetAPI(ImageAPITest):
    image_widget_class = ImageWidget
