"""CutoutGrid, PhotometryTable, LightCurve and their views, without a database or a browser."""

from __future__ import annotations

import io

import numpy as np
import pytest
from astropy.table import Table

from snapscope import batch
from snapscope.image import OpenUniverse2024FITSImage
from snapscope.widgets import CutoutGrid, ImageWidget, LightCurve, PhotometryTable


@pytest.fixture
def images(sim_survey):
    return [OpenUniverse2024FITSImage(full_filepath=e["path"]) for e in sim_survey.exposures]


@pytest.fixture
def position(sim_survey):
    return (sim_survey.sn_ra, sim_survey.sn_dec)


def _decode(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


# ----------------------------------------------------------------- CutoutGrid
def test_widgets_send_their_whole_state(images, position):
    """Regression: an attribute named like a Widget method (``keys``) emptied the synced state,
    so front ends could not create the widget (nbclient: KeyError '_model_module')."""
    grid, table, curve = CutoutGrid(), PhotometryTable(), LightCurve()
    grid.show(images[:2], position)
    table.measure(images[:2], [position])
    curve.set_table(table.table)
    for widget in (grid, table, curve):
        assert {"_model_module", "children"} <= set(widget.get_state())


def test_grid_is_lazy_ordered_by_mjd_and_shows_progress(images, position):
    grid = CutoutGrid(page_size=8)
    grid.show(images[::-1], position)
    assert [im.mjd for im in grid.images] == sorted(im.mjd for im in images)
    assert sum(c is not None for c in grid.cutouts) == 8
    assert [len(b) > 0 for b in grid.thumbnails.images] == [True] * 8 + [False] * 4
    assert grid.progress.value == grid.progress.max == 8
    assert grid.more.description == "load more (4 left)"
    grid.more.click()
    assert all(c is not None for c in grid.cutouts) and grid.more.disabled
    first = grid.thumbnails.items[0]["caption"]
    assert first.startswith(f"{grid.images[0].band} {grid.images[0].mjd:.2f}")
    assert f"{100 * grid.cutouts[0].fraction_masked():.1f}% flagged" in first


def test_grid_cutouts_and_thumbnails_are_the_image_api_pixels(images, position):
    from astropy.visualization import ZScaleInterval

    from snapscope.tiles import render_rgba

    grid = CutoutGrid(size=21)
    grid.show(images[:4], position)
    cuts = [im.get_ra_dec_cutout(*position, 21, mode="partial") for im in grid.images]
    for got, direct in zip(grid.cutouts, cuts, strict=True):
        np.testing.assert_array_equal(got.data, direct.data)
    pixels = np.concatenate([c.data[(c.flags == 0) & np.isfinite(c.data)] for c in cuts])
    assert grid.get_cuts() == pytest.approx(ZScaleInterval().get_limits(pixels.astype(float)))
    assert (grid.vmin.value, grid.vmax.value) == pytest.approx(grid.get_cuts())
    rgba = _decode(grid.thumbnails.images[0])
    expected = render_rgba(cuts[0].data, *grid.get_cuts(), "linear", "gray")[::-1]
    good = (cuts[0].flags == 0)[::-1]
    np.testing.assert_array_equal(rgba[good], expected[good])
    bad = ~good
    if bad.any():  # flagged pixels are tinted red
        assert np.all(rgba[bad][:, 0] >= rgba[bad][:, 1])


def test_one_shared_stretch_the_user_can_change(images, position):
    grid = CutoutGrid(size=15)
    grid.show(images[:3], position)
    before = list(grid.thumbnails.images)
    grid.set_stretch("asinh")
    assert grid.thumbnails.images != before
    grid.set_cuts((100.0, 300.0))
    assert grid.interval.value == "manual" and grid.get_cuts() == (100.0, 300.0)
    grid.vmax.value = 500.0
    assert grid.get_cuts() == (100.0, 500.0)
    grid.set_cuts("minmax")
    lo = min(float(np.nanmin(c.data[c.flags == 0])) for c in grid.cutouts)
    assert grid.get_cuts()[0] == pytest.approx(lo)
    grid.set_colormap("viridis")
    state = grid.state()
    other = CutoutGrid(size=15)
    other.show(images[:3], position)
    other.set_state(state)
    assert other.state() == state and other.thumbnails.images == grid.thumbnails.images


def test_clicking_a_cutout_opens_the_image_centred(images, position):
    from snapscope.widgets._open import LINKED_LABEL

    viewer = ImageWidget()
    grid = CutoutGrid(viewer=viewer, size=15)
    grid.show(images[:3], position)
    grid.thumbnails._on_browser_msg(None, {"kind": "click", "index": 1}, [])
    assert viewer.get_image(LINKED_LABEL) is grid.images[1]
    assert grid.selected_key == batch.image_key(grid.images[1]) and grid.thumbnails.selected == 1
    center = viewer.get_viewport(image_label=LINKED_LABEL)["center"]
    assert (center.ra.deg, center.dec.deg) == pytest.approx(position, abs=1e-6)
    grid.highlighted_key = grid.image_keys[2]
    assert grid.thumbnails.highlighted == 2


def test_export_writes_every_cutout(images, position, tmp_path):
    from astropy.io import fits

    grid = CutoutGrid(size=15, page_size=2)
    grid.show(images[:5], position)
    grid.filename.value = str(tmp_path / "stack.fits")
    grid.save_button.click()
    assert "saved 5 cutouts" in grid.status.value
    with fits.open(tmp_path / "stack.fits") as hdul:
        assert hdul[0].header["NCUTOUT"] == 5
        np.testing.assert_array_equal(hdul["SCI", 5].data, grid.cutouts[4].data)
    grid.filename.value = str(tmp_path / "missing" / "dir.fits")
    grid.save_button.click()
    assert "not saved" in grid.status.value


def test_failed_cutouts_are_shown_with_the_reason(position):
    from astropy.wcs import WCS

    from snapscope.image import Numpy2DImage

    w = WCS(naxis=2)
    w.wcs.ctype, w.wcs.crval = ["RA---TAN", "DEC--TAN"], [position[0] + 10, position[1]]
    w.wcs.cdelt, w.wcs.crpix = [-3e-5, 3e-5], [10, 10]
    far = Numpy2DImage(data=np.zeros((20, 20), np.float32), wcs=w, mjd=1.0, band="Y106")
    grid = CutoutGrid()
    grid.show([far], position)
    assert grid.cutouts == [None] and grid.thumbnails.images == [b""]
    assert grid.thumbnails.items[0]["error"] == "failed" and "is outside the image" in grid.errors[0]
    assert "1 failed" in grid.status.value


# ------------------------------------------------------------ PhotometryTable
def test_photometry_table_equals_the_batch_call(images, position):
    widget = PhotometryTable()
    table = widget.measure(images[:6], [position])
    direct = batch.forced_photometry(images[:6], [position], progress=False)
    for name in batch.COLUMNS:
        np.testing.assert_array_equal(table[name], direct[name])
    assert len(widget.view.rows) == 6 and widget.progress.value == 6
    assert widget.view.rows[0][0] == images[0].filename


def test_parameters_are_shown_editable_and_checked(images, position):
    widget = PhotometryTable(ap_r=2.0, stamp=None)
    assert widget.fields["ap_r"].value == "2" and widget.fields["stamp"].value == "full"
    widget.fields["ap_r"].value = "4.5"
    widget.fields["bgsize"].value = "0"
    widget.method.value = "center"
    table = widget.measure(images[:2], [position])
    assert table.meta["parameters"]["ap_r"] == 4.5 and table.meta["parameters"]["stamp"] is None
    assert table.meta["parameters"]["method"] == "center"
    for field, text, reason in (("ap_r", "-1", "greater than 0"), ("stamp", "64", "odd"),
                                ("bgsize", "x", "not an integer"), ("bgouter", "10", "larger")):
        old = widget.fields[field].value
        widget.fields[field].value = text
        assert widget.measure() is None and reason in widget.fields[field].error
        assert "fix the marked fields" in widget.status.value
        widget.fields[field].value = old
    with pytest.raises(TypeError, match="radius"):
        widget.set_params(radius=3)


def test_sorting_keeps_selection_on_table_rows(images, position):
    widget = PhotometryTable()
    widget.measure(images, [position])
    widget.view.selected = [0, 1]
    assert widget.selected == [0, 1]
    widget.view.sort = {"column": "flux", "descending": True}
    flux = widget.table["flux"]
    assert widget._order[0] == int(np.argmax(flux))
    assert sorted(widget.view.selected) == sorted(widget._order.index(r) for r in (0, 1))
    assert widget.selected == [0, 1]
    widget.highlighted = 3
    assert widget.view.highlighted == widget._order.index(3)
    widget.view.sort = {"column": "mag", "descending": True}
    mags = [widget.view.rows[k][9] for k in range(len(widget.view.rows))]
    blanks = [m == "" for m in mags]
    assert blanks == sorted(blanks)  # magnitudes of non-positive fluxes last


@pytest.mark.parametrize("suffix", ["ecsv", "csv", "parquet"])
def test_export_formats(images, position, tmp_path, suffix):
    widget = PhotometryTable()
    widget.measure(images[:3], [position])
    path = widget.export(tmp_path / f"phot.{suffix}")
    back = Table.read(path)
    np.testing.assert_allclose(back["flux"], widget.table["flux"], rtol=1e-12)
    if suffix == "ecsv":
        assert back.meta["parameters"]["ap_r"] == 3.0
    with pytest.raises(ValueError, match="unknown export format"):
        widget.export(tmp_path / "phot.txt")


# ----------------------------------------------------------------- LightCurve
@pytest.fixture
def photometry(images, position, sim_survey):
    from snapscope.psf import PSF

    psf = {b: PSF.get_psf_object("OversampledImagePSF",
                                 psffile=sim_survey.path / f"epsf_{b}_1.fits")
           for b in ("Y106", "H158")}
    return batch.forced_photometry(images, [position], psf=psf, progress=False)


def test_light_curve_plots_each_band_with_error_bars(photometry):
    lc = LightCurve()
    lc.set_table(photometry)
    assert lc.method.options == ("psf", "aperture") and lc.method.value == "psf"
    assert set(lc.points) == {"Y106", "H158"}
    scatter, rows = lc.points["Y106"]
    np.testing.assert_array_equal(scatter.x, photometry["mjd"][rows])
    np.testing.assert_array_equal(scatter.y, photometry["flux"][rows])
    assert all(photometry["method"][rows] == "psf") and all(photometry["band"][rows] == "Y106")
    bars = lc.figure.marks[lc.figure.marks.index(scatter) - 1]
    np.testing.assert_allclose(bars.y[:, 1] - bars.y[:, 0], 2 * photometry["flux_err"][rows])
    lc.quantity.value = "mag"
    scatter, rows = lc.points["Y106"]
    assert lc.y_scale.reverse and np.all(np.isfinite(photometry["mag"][rows]))
    assert len(rows) == np.count_nonzero((photometry["band"] == "Y106")
                                         & (photometry["method"] == "psf")
                                         & np.isfinite(photometry["mag"]))


def test_light_curve_links_by_table_row(photometry):
    lc = LightCurve()
    lc.set_table(photometry)
    scatter, rows = lc.points["H158"]
    scatter._handle_custom_msgs(None, {"event": "hover", "data": {"index": 3}}, [])
    assert lc.hovered == rows[3]
    scatter._handle_custom_msgs(None, {"event": "element_click", "data": {"index": 1}}, [])
    assert lc.selected == [rows[1]] and list(scatter.selected) == [1]
    assert lc.points["Y106"][0].selected is not None and len(lc.points["Y106"][0].selected) == 0
    lc.selected = []
    assert scatter.selected is None
    lc.method.value = "aperture"
    assert all(photometry["method"][lc.points["H158"][1]] == "aperture")


def test_table_and_thumbnail_views_load_their_own_small_bundles():
    from snapscope.widgets._bundles import bundle
    from snapscope.widgets._views import DataTable, Thumbnails

    for view, name in ((DataTable, "datatable"), (Thumbnails, "thumbnails")):
        esm = str(view._esm)
        assert esm == bundle(name).read_text()
        assert "export" in esm and "import" not in esm.replace("import.meta", "")  # self-contained
        assert len(esm) < len(bundle("widget").read_text()) / 5, name  # not the image viewer


def test_thumbnails_refuse_an_unknown_message_kind():
    from snapscope.widgets._protocol import ProtocolError
    from snapscope.widgets._views import Thumbnails

    thumbs = Thumbnails(items=[{"caption": "a"}], images=[b""])
    with pytest.raises(ProtocolError, match="unknown message kind 'scroll'"):
        thumbs._on_browser_msg(None, {"kind": "scroll", "index": 0}, [])
    thumbs._on_browser_msg(None, {"kind": "click", "index": 0}, [])
    assert thumbs.selected == 0


# ----------------------------------------------------------------- SearchForm
def test_constructing_a_search_form_starts_no_server(tmp_path, monkeypatch):
    from snapscope.db import _server
    from snapscope.widgets import SearchForm

    monkeypatch.delenv("SNAPSCOPE_DSN", raising=False)
    monkeypatch.setenv("SNAPSCOPE_DATA", str(tmp_path / "data"))
    form = SearchForm()
    assert not _server.status()["initialised"] and not _server.status()["running"]
    assert form.provenance.options == (("any", None),)
    assert "starts on the first search" in form.status.value


def test_a_photometry_table_imports_the_photometry_stack_in_the_background():
    """The first search must not wait for photutils & co.: creating the table starts importing."""
    import subprocess
    import sys

    code = ("import sys, threading\n"
            "from snapscope.widgets import PhotometryTable\n"
            "before = 'photutils.aperture' in sys.modules\n"
            "PhotometryTable()\n"
            "for th in threading.enumerate():\n"
            "    if th.name == 'snapscope-photometry-warm-up':\n"
            "        th.join(120)\n"
            "print(before, all(m in sys.modules for m in "
            "('photutils.aperture', 'photutils.background', 'scipy.optimize')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
