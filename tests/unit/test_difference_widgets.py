"""LightCurve and PhotometryTable on difference photometry (``batch.difference_photometry``):
upper limits, the direct | difference switch, export; without a database or a browser."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from snapscope import batch
from snapscope.image import OpenUniverse2024FITSImage
from snapscope.widgets import LightCurve, PhotometryTable

pytest.importorskip("reproject")

#: Epochs before this MJD make the reference (sim_survey: the 62420 template of each band).
BEFORE = 62450.0


@pytest.fixture(scope="module")
def survey_images(sim_survey):
    return [OpenUniverse2024FITSImage(full_filepath=e["path"]) for e in sim_survey.exposures]


@pytest.fixture(scope="module")
def position(sim_survey):
    return (sim_survey.sn_ra, sim_survey.sn_dec)


@pytest.fixture(scope="module")
def psfs(sim_survey):
    from snapscope.psf import PSF

    return {b: PSF.get_psf_object("OversampledImagePSF",
                                  psffile=sim_survey.path / f"epsf_{b}_1.fits")
            for b in ("Y106", "H158")}


@pytest.fixture(scope="module")
def references(survey_images, position, psfs):
    from snapscope.diff import build_reference

    return {b: build_reference(survey_images, position, psfs, band=b, before=BEFORE)
            for b in ("Y106", "H158")}


@pytest.fixture(scope="module")
def diff_table(survey_images, position, psfs, references):
    return batch.difference_photometry(survey_images, position, references, psf=psfs,
                                       progress=False)


# ----------------------------------------------------------------- LightCurve
def test_light_curve_draws_upper_limits_as_triangles_in_magnitudes(diff_table):
    lc = LightCurve(quantity="mag")
    lc.set_table(diff_table)
    assert lc.position.disabled and lc.position.layout.display == "none"
    assert lc.method.value == "psf" and set(lc.limits) == set(lc.points) == {"Y106", "H158"}
    limit = np.isfinite(diff_table["upper_limit"]) & (diff_table["method"] == "psf")
    assert 0 < limit.sum() < (diff_table["method"] == "psf").sum()
    for band, (scatter, rows) in lc.limits.items():
        want = np.flatnonzero(limit & (diff_table["band"] == band))
        np.testing.assert_array_equal(rows, want)
        assert scatter.marker == "triangle-down" and scatter.colors == lc.points[band][0].colors
        np.testing.assert_array_equal(scatter.y, diff_table["upper_limit"][rows])
        np.testing.assert_array_equal(scatter.x, diff_table["mjd"][rows])
        # atleast_2d: bqplot stores a single segment as one line (the same picture)
        stems = np.atleast_2d(lc.figure.marks[lc.figure.marks.index(scatter) - 1].y)
        np.testing.assert_allclose(stems[:, 0], diff_table["upper_limit"][rows])
        assert np.all(stems[:, 1] > stems[:, 0])  # towards fainter: down on the reversed axis
        detected = lc.points[band][1]
        assert not set(detected) & set(rows)  # a limit is not also plotted as a detection
        assert np.all(np.isfinite(diff_table["mag"][rows]))  # though its magnitude is finite
        np.testing.assert_array_equal(lc.points[band][0].y, diff_table["mag"][detected])
    assert lc.y_scale.reverse


def test_light_curve_in_flux_plots_every_row_with_error_bars(diff_table):
    lc = LightCurve()
    lc.set_table(diff_table)
    assert lc.limits == {}
    psf = diff_table["method"] == "psf"
    assert sum(len(rows) for _, rows in lc.points.values()) == psf.sum()
    scatter, rows = lc.points["Y106"]
    np.testing.assert_array_equal(scatter.y, diff_table["flux"][rows])
    bars = lc.figure.marks[lc.figure.marks.index(scatter) - 1]
    np.testing.assert_allclose(bars.y[:, 1] - bars.y[:, 0], 2 * diff_table["flux_err"][rows])


def test_negative_fluxes_are_points_in_flux_and_absent_in_magnitudes():
    table = Table({"image_id": ["a", "b"], "band": ["Y106", "Y106"], "mjd": [1.0, 2.0],
                   "method": ["psf", "psf"], "flux": [-5.0, 50.0], "flux_err": [2.0, 2.0],
                   "mag": [np.nan, 21.0], "mag_err": [np.nan, 0.05],
                   "upper_limit": [np.nan, np.nan]})
    lc = LightCurve()
    lc.set_table(table)
    assert list(lc.points["Y106"][0].y) == [-5.0, 50.0]
    lc.quantity.value = "mag"
    assert list(lc.points["Y106"][1]) == [1] and lc.limits == {}


def test_limit_points_hover_and_click_report_table_rows(diff_table):
    lc = LightCurve(quantity="mag")
    lc.set_table(diff_table)
    scatter, rows = lc.limits["H158"]
    scatter._handle_custom_msgs(None, {"event": "hover", "data": {"index": 0}}, [])
    assert lc.hovered == rows[0]
    scatter._handle_custom_msgs(None, {"event": "element_click", "data": {"index": 0}}, [])
    assert lc.selected == [rows[0]] and list(scatter.selected) == [0]
    detections = lc.points["H158"][0]
    assert detections.selected is not None and len(detections.selected) == 0
    lc.selected = [int(lc.points["Y106"][1][1]), int(rows[0])]
    assert list(scatter.selected) == [0] and list(lc.points["Y106"][0].selected) == [1]


# ------------------------------------------------------------ PhotometryTable
def test_difference_mode_equals_the_batch_call(survey_images, position, psfs, references,
                                               diff_table):
    widget = PhotometryTable(psf=psfs, reference=references)
    assert widget.mode.value == "difference" and not widget.mode.disabled
    assert widget.fields["stamp"].text.disabled and widget.imagesampled.disabled
    table = widget.measure(survey_images, [position])
    for name in batch.DIFFERENCE_COLUMNS:
        np.testing.assert_array_equal(table[name], diff_table[name])
    names = [c["name"] for c in widget.view.columns]
    assert {"snr", "upper_limit"} <= set(names) and "position" not in names
    assert len(widget.view.rows) == len(diff_table) and "24 difference measurements" in \
        widget.status.value
    widget.mode.value = "direct"  # flipping re-measures
    direct = batch.forced_photometry(survey_images, [position], psf=psfs, progress=False)
    np.testing.assert_array_equal(widget.table["flux"], direct["flux"])
    assert "position" in [c["name"] for c in widget.view.columns]


def test_switch_needs_a_reference_and_a_psf(psfs, references):
    assert PhotometryTable(psf=psfs).mode.disabled
    widget = PhotometryTable(reference=references)
    assert widget.mode.disabled and widget.mode.value == "direct"
    widget = PhotometryTable(psf=psfs)
    widget.set_reference(references)
    assert not widget.mode.disabled and widget.mode.value == "difference"
    widget.set_reference(references, difference=False)
    assert not widget.mode.disabled and widget.mode.value == "direct"
    widget.set_reference(None)
    assert widget.mode.disabled and widget.mode.value == "direct"
    assert not widget.fields["stamp"].text.disabled


def test_difference_mode_says_what_it_left_out(survey_images, position, psfs, references,
                                               diff_table):
    widget = PhotometryTable(psf=psfs, reference={"Y106": references["Y106"]})
    table = widget.measure(survey_images, [position, (position[0] + 0.001, position[1])])
    np.testing.assert_array_equal(table["flux"], diff_table["flux"][diff_table["band"] == "Y106"])
    assert "measured the first of 2" in widget.status.value
    assert "no reference for H158 (6 images): direct photometry only" in widget.status.value
    widget.set_reference({"J129": references["Y106"]})
    assert widget.measure() is None and "no reference for the bands" in widget.status.value


@pytest.mark.parametrize("suffix", ["ecsv", "csv", "parquet"])
def test_difference_export_round_trip(survey_images, position, psfs, references, tmp_path,
                                      suffix):
    widget = PhotometryTable(psf=psfs, reference=references)
    widget.measure(survey_images[:4], [position])
    back = Table.read(widget.export(tmp_path / f"diff.{suffix}"))
    assert back.colnames == list(batch.DIFFERENCE_COLUMNS)
    for name in batch.DIFFERENCE_COLUMNS:
        if widget.table[name].dtype.kind == "f":
            np.testing.assert_allclose(back[name], widget.table[name], rtol=1e-12)
        else:  # text readers read an empty string (no catalogue id) as a masked value
            masked = np.ma.getmaskarray(back[name])
            assert ["" if m else str(v) for v, m in zip(back[name], masked, strict=True)] == [
                str(v) for v in widget.table[name]]
    if suffix == "ecsv":
        assert back.meta["references"] == widget.table.meta["references"]
        assert back.meta["parameters"]["snr_limit"] == 5.0
