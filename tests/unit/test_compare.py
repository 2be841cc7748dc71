"""CompareView without a browser: construction, validation, Python-side linking and shared display.

What the browser does (pans, crosshair, blink) is tested in tests/browser/test_compare_browser.py
and the sky-link maths in js/tests/skyView.test.ts.
"""

from __future__ import annotations

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.visualization import LogStretch
from fitsmaker import make_wcs

from snapscope.image import Numpy2DImage
from snapscope.widgets import CompareView
from snapscope.widgets._state import Link, View


@pytest.fixture
def images():
    """Three fresh images of one sky on different pixel grids (shifted, rotated, scaled)."""
    rng = np.random.default_rng(1)
    grids = [
        ((64, 64), {"rot_deg": 0}),
        ((80, 60), {"rot_deg": 30, "ra": 150.1003, "dec": 2.1999}),
        ((50, 50), {"rot_deg": -75, "pixscale": 0.2 / 3600}),
    ]
    return [
        Numpy2DImage(
            data=rng.normal(size=shape).astype(np.float32),
            wcs=make_wcs(shape, **{"ra": 150.1, "dec": 2.2, **kw}),
        )
        for shape, kw in grids
    ]


def sky_centre(pane) -> SkyCoord:
    return pane.get_viewport(sky_or_pixel="sky")["center"]


def test_panes_share_one_link_group_and_start_on_one_sky_position(images):
    cv = CompareView(images, labels=["a", "b", "c"])
    assert [p.displayed_label for p in cv.panes] == ["a", "b", "c"] == list(cv.labels)
    links = [p._link for p in cv.panes]
    assert links[0].group and all(link == links[0] for link in links)
    assert links[0] == Link(group=cv._link.group, mode="wcs", display=True)
    assert cv.get_state()["_panes"] == [f"anywidget:{p.model_id}" for p in cv.panes]
    first = sky_centre(cv.panes[0])
    for pane in cv.panes[1:]:
        assert sky_centre(pane).separation(first).arcsec < 1e-6
        # the same angular field of view
        fov = pane.get_viewport(sky_or_pixel="sky")["fov"]
        assert fov.to_value(u.arcsec) == pytest.approx(
            cv.panes[0].get_viewport(sky_or_pixel="sky")["fov"].to_value(u.arcsec), rel=1e-6
        )
    assert cv.pane("b") is cv.panes[1]


def test_triplet_labels_science_reference_difference(images):
    cv = CompareView.triplet(*images)
    assert cv.labels == ("science", "reference", "difference")
    assert cv._arrangement == "row"


@pytest.mark.parametrize(
    ("n", "kwargs", "match"),
    [
        (1, {}, "needs 2 to 12 images, got 1"),
        (13, {}, "needs 2 to 12 images, got 13"),
        (2, {"link": "sky"}, "link must be 'wcs', 'pixel' or None, not 'sky'"),
        (2, {"layout": "column"}, "layout must be 'grid' or 'row', not 'column'"),
        (2, {"labels": ["x", "x"]}, "labels must be 2 distinct strings"),
    ],
)
def test_bad_arguments_are_named(n, kwargs, match):
    arrays = [np.zeros((8, 8), np.float32) for _ in range(n)]
    with pytest.raises(ValueError, match=match):
        CompareView(arrays, **{"link": None, **kwargs})


def test_sky_link_needs_a_wcs_on_every_image(images):
    with pytest.raises(ValueError, match=r"link='wcs' needs a celestial WCS.*\['image 2'\]"):
        CompareView([images[0], np.zeros((8, 8), np.float32)])


def test_pixel_link_needs_one_shape():
    with pytest.raises(ValueError, match=r"link='pixel' needs images of one shape"):
        CompareView([np.zeros((8, 8)), np.zeros((8, 9))], link="pixel")
    cv = CompareView([np.zeros((8, 8)), np.ones((8, 8))], link="pixel")
    assert cv.panes[1]._link.mode == "pixel"


def test_unlinked_panes_still_share_a_group_for_the_display():
    cv = CompareView([np.zeros((8, 8)), np.ones((6, 9))], link=None)
    assert [p._link.mode for p in cv.panes] == ["none", "none"]


def test_a_viewport_set_from_python_moves_every_pane(images):
    cv = CompareView(images)
    target = SkyCoord(150.1 * u.deg, 2.2 * u.deg).directional_offset_by(40 * u.deg, 1 * u.arcsec)
    cv.pane(1).set_viewport(center=target, fov=3 * u.arcsec)
    for pane in cv.panes:
        assert sky_centre(pane).separation(target).arcsec < 1e-6
        fov = pane.get_viewport(sky_or_pixel="sky")["fov"].to_value(u.arcsec)
        assert fov == pytest.approx(3, rel=1e-6)


def test_a_browser_pan_is_left_to_the_browser(images):
    """The page links the panes; Python must not move the others again (it would fight)."""
    cv = CompareView(images)
    before = [p._view for p in cv.panes]
    view = dict(before[0].to_json(), x=before[0].x + 5)
    cv.panes[0].set_state({"_view": view})  # as a browser message does
    assert cv.panes[0]._view == View(**view)
    assert [p._view for p in cv.panes[1:]] == before[1:]


def test_shared_stretch_copies_python_setters_to_every_pane(images):
    cv = CompareView(images)
    cv.pane(2).set_cuts((-1, 3))
    cv.set_stretch(LogStretch())
    cv.set_colormap("viridis")
    for pane in cv.panes:
        assert tuple(pane.get_cuts().get_limits(np.zeros(1))) == (-1, 3)
        assert isinstance(pane.get_stretch(), LogStretch)
        assert pane.get_colormap() == "viridis"


def test_per_pane_stretch_and_browser_edits_stay_in_their_pane(images):
    cv = CompareView(images, shared_stretch=False)
    cv.pane(0).set_cuts((0, 1))
    cv.set_colormap("magma", pane="image 3")
    assert tuple(cv.pane(1).get_cuts().get_limits(np.zeros(1))) != (0, 1)
    assert [p.get_colormap() for p in cv.panes] == [None, None, "magma"]

    shared = CompareView(images)
    pane = shared.panes[0]
    key = pane._displayed
    displays = {key: {**pane._displays[key].to_json(), "cmap": "magma"}}
    pane.set_state({"_displays": displays})  # a display-control edit: shared in the page
    assert pane.get_colormap() == "magma"
    assert [p.get_colormap() for p in shared.panes[1:]] == [None, None]


def test_close_closes_the_panes(images):
    cv = CompareView(images[:2])
    panes = cv.panes
    cv.close()
    assert all(p.comm is None for p in panes)
