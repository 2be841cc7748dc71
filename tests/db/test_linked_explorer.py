"""Explorer against the real catalogue: a position → every image → cutouts, photometry, light
curve, all linked; state saved and restored."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.db


@pytest.fixture
def explorer(db_dsn, sim_survey):
    from snapscope.db._ingest import ingest
    from snapscope.psf import PSF
    from snapscope.widgets import explore

    ingest([e["path"] for e in sim_survey.exposures], "sim", "import", image_class="ou2024",
           dbclient=db_dsn, progress=False)
    psf = {b: PSF.get_psf_object("OversampledImagePSF",
                                 psffile=sim_survey.path / f"epsf_{b}_1.fits")
           for b in ("Y106", "H158")}
    return explore(f"{sim_survey.sn_ra} {sim_survey.sn_dec}", dbclient=db_dsn, psf=psf,
                   provenance=("sim", "import"))


def test_search_fills_cutouts_photometry_and_light_curve(explorer, sim_survey):
    pos = (sim_survey.sn_ra, sim_survey.sn_dec)
    assert len(explorer.images) == 12
    mjds = [im.mjd for im in explorer.images]
    assert mjds == sorted(mjds)
    grid = explorer.cutouts
    assert grid.images == explorer.images and all(c is not None for c in grid.cutouts)
    for image, cut in zip(grid.images, grid.cutouts, strict=True):
        np.testing.assert_array_equal(cut.data, image.get_ra_dec_cutout(*pos, 31,
                                                                         mode="partial").data)
    assert all(len(png) > 100 for png in grid.thumbnails.images)
    table = explorer.photometry.table
    assert len(table) == 24 and set(table["method"]) == {"aperture", "psf"}
    assert explorer.lightcurve.table is table and explorer.lightcurve.method.value == "psf"
    assert sum(len(rows) for _, rows in explorer.lightcurve.points.values()) == 12


def test_light_curve_hover_and_click_highlight_row_and_cutout(explorer):
    scatter, rows = explorer.lightcurve.points["H158"]
    scatter._handle_custom_msgs(None, {"event": "hover", "data": {"index": 4}}, [])
    row = int(rows[4])
    table = explorer.photometry.table
    assert explorer.photometry.highlighted == row
    key = table["image_id"][row]
    assert explorer.cutouts.highlighted_key == key
    assert explorer.cutouts.thumbnails.highlighted == explorer.cutouts.image_keys.index(key)
    shown = explorer.photometry._order.index(row)
    assert explorer.photometry.view.highlighted == shown
    scatter._handle_custom_msgs(None, {"event": "element_click", "data": {"index": 2}}, [])
    assert explorer.photometry.selected == [int(rows[2])]
    assert list(scatter.selected) == [2]


def test_selecting_rows_highlights_points(explorer):
    table = explorer.photometry.table
    psf_rows = [r for r in range(len(table)) if table["method"][r] == "psf"]
    view = explorer.photometry.view
    view.selected = [explorer.photometry._order.index(r) for r in psf_rows[:3]]
    assert explorer.lightcurve.selected == psf_rows[:3]
    hits = {band: list(sc.selected) for band, (sc, _) in explorer.lightcurve.points.items()
            if sc.selected is not None and len(sc.selected)}
    assert sum(len(v) for v in hits.values()) == 3


def test_clicking_a_cutout_opens_its_image_and_selects_its_rows(explorer, sim_survey):
    from snapscope.widgets._open import LINKED_LABEL

    grid = explorer.cutouts
    grid.thumbnails.click(5)
    image = grid.images[5]
    assert explorer.viewer.get_image(LINKED_LABEL) is image
    center = explorer.viewer.get_viewport(image_label=LINKED_LABEL)["center"]
    assert center.ra.deg == pytest.approx(sim_survey.sn_ra, abs=1e-6)
    table = explorer.photometry.table
    assert {str(table["image_id"][r]) for r in explorer.photometry.selected} == {str(image.id)}
    assert len(explorer.photometry.selected) == 2  # aperture and psf


def test_viewer_click_moves_the_position_and_searches_again(explorer, sim_survey):
    before = explorer.search.searches
    explorer._on_viewer_click({"ra": sim_survey.sn_ra + 0.0005, "dec": sim_survey.sn_dec,
                               "x": 0.0, "y": 0.0, "image_label": "linked image"})
    assert explorer.search.searches == before + 1
    assert explorer.cutouts.position[0] == pytest.approx(sim_survey.sn_ra + 0.0005)
    assert explorer.photometry.table["ra"][0] == pytest.approx(sim_survey.sn_ra + 0.0005)


def test_state_round_trip(explorer, db_dsn, sim_survey):
    from snapscope.widgets import Explorer

    explorer.cutouts.set_cuts((100.0, 400.0))
    explorer.cutouts.set_stretch("asinh")
    explorer.photometry.set_params(ap_r=2.5)
    explorer.photometry.measure()
    explorer.lightcurve.click(7)
    explorer.lightcurve.quantity.value = "mag"
    text = explorer.to_json()
    state = json.loads(text)
    assert state["position"] == pytest.approx([sim_survey.sn_ra, sim_survey.sn_dec])
    assert state["cutouts"] == {"interval": "manual", "cuts": [100.0, 400.0], "stretch": "asinh",
                                "cmap": "gray", "view": "cutouts"}
    again = Explorer(dbclient=db_dsn, psf=explorer.photometry.psf)
    again.from_json(text)
    assert again.search.position == explorer.search.position
    assert again.cutouts.get_cuts() == (100.0, 400.0) and again.cutouts.stretch.value == "asinh"
    assert again.photometry.params()["ap_r"] == 2.5
    assert again.photometry.selected == [7]
    assert again.lightcurve.quantity.value == "mag"
    np.testing.assert_array_equal(again.photometry.table["flux"], explorer.photometry.table["flux"])
    with pytest.raises(ValueError, match="newer"):
        again.set_state({**state, "version": 99})
