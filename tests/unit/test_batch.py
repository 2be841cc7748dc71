"""snapscope.batch: cutouts and forced photometry equal the Image API called directly, and the
simulated supernova's light curve is recovered within its errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from snapscope import batch
from snapscope.image import Numpy2DImage, OpenUniverse2024FITSImage


@pytest.fixture(scope="session")
def lc_survey(tmp_path_factory):
    """20 exposures (10 epochs × Y106, H158) of 256², no host galaxy (read-only).

    The session's ``sim_survey`` has six epochs per band; the light-curve test wants ten.
    """
    sim = pytest.importorskip("snapscope.sim")
    out = tmp_path_factory.mktemp("lc-survey")
    return sim.make_survey(out, size=256, bands=("Y106", "H158"), n_images=20, seed=7, host=False,
                           progress=False)


@pytest.fixture
def images(lc_survey):
    """Fresh Image objects of the survey, in schedule (MJD) order."""
    return [OpenUniverse2024FITSImage(full_filepath=e["path"]) for e in lc_survey.exposures]


@pytest.fixture(scope="session")
def psfs(lc_survey):
    from snapscope.psf import PSF

    return {b: PSF.get_psf_object("OversampledImagePSF",
                                  psffile=lc_survey.path / f"epsf_{b}_1.fits")
            for b in ("Y106", "H158")}


def tan_wcs(ra=150.0, dec=2.0, shape=(101, 101)):
    w = WCS(naxis=2)
    w.wcs.crpix = [(shape[1] + 1) / 2, (shape[0] + 1) / 2]
    w.wcs.crval = [ra, dec]
    w.wcs.cdelt = [-0.11 / 3600, 0.11 / 3600]
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    return w


# ------------------------------------------------------------------ positions
@pytest.mark.parametrize("text, expected", [
    ("7.5511 -44.8072", (7.5511, -44.8072)),
    ("7.5511, -44.8072", (7.5511, -44.8072)),
    ("00:30:12.264 -44:48:25.92", (7.5511, -44.8072)),
    ("0h30m12.264s -44d48m25.92s", (7.5511, -44.8072)),
    ("7.5511d -44.8072d", (7.5511, -44.8072)),
    ("-10 5", (350.0, 5.0)),
    ("00 30 12.264 -44 48 25.92", (7.5511, -44.8072)),
])
def test_parse_position(text, expected):
    assert batch.parse_position(text) == pytest.approx(expected, abs=1e-7)


@pytest.mark.parametrize("value, match", [
    ("", "no position"), ("7.5", "expected 'RA Dec'"), ("10 95", "between -90 and 90"),
    ("ab cd", "expected 'RA Dec'"), ((1, float("nan")), "finite"), ("12:00:00 +95:00:00", "-90"),
])
def test_parse_position_errors_say_what_is_expected(value, match):
    with pytest.raises(ValueError, match=match):
        batch.parse_position(value)


def test_sky_positions_forms():
    from astropy.coordinates import SkyCoord

    ra, dec = batch.sky_positions([(1, 2), "3 4"])
    assert ra.tolist() == [1, 3] and dec.tolist() == [2, 4]
    ra, dec = batch.sky_positions(SkyCoord([5, 6], [7, 8], unit="deg"))
    assert ra == pytest.approx([5, 6]) and dec == pytest.approx([7, 8])
    assert batch.sky_positions((1.5, 2.5))[0].tolist() == [1.5]
    with pytest.raises(ValueError, match="no positions"):
        batch.sky_positions([])


# -------------------------------------------------------------------- cutouts
def test_cutouts_equal_get_ra_dec_cutout(lc_survey, images):
    pos = (lc_survey.sn_ra, lc_survey.sn_dec)
    stack = batch.cutouts(images, pos, 21, progress=False)
    assert len(stack) == len(images) and stack.images == images
    for image, cut in zip(images, stack, strict=True):
        direct = image.get_ra_dec_cutout(*pos, 21, mode="partial")
        assert type(cut) is type(direct)
        for plane in ("data", "noise", "flags"):
            np.testing.assert_array_equal(getattr(cut, plane), getattr(direct, plane))
        assert cut.get_wcs().pixel_to_world(3.0, 7.0) == direct.get_wcs().pixel_to_world(3.0, 7.0)
        assert (cut.band, cut.mjd) == (image.band, image.mjd)
    assert stack.errors == [None] * len(images)


def test_cutout_failures_are_reported_not_raised():
    inside = Numpy2DImage(data=np.ones((101, 101), np.float32), wcs=tan_wcs())
    far = Numpy2DImage(data=np.ones((101, 101), np.float32), wcs=tan_wcs(ra=10.0))
    stack = batch.cutouts([inside, far], (150.0, 2.0), 11, mode="strict", progress=False)
    assert stack[0].data.shape == (11, 11) and stack[1] is None
    assert stack.errors[0] is None and "is outside the image" in stack.errors[1]


@pytest.mark.parametrize("size, mode, match", [(10, "partial", "odd"), (0, "partial", "odd"),
                                               (11, "nearest", "mode")])
def test_cutout_arguments_checked_first(size, mode, match):
    with pytest.raises(ValueError, match=match):
        batch.cutouts([], (1, 2), size, mode=mode)


def test_stack_written_as_multi_extension_fits(lc_survey, images, tmp_path):
    pos = (lc_survey.sn_ra, lc_survey.sn_dec)
    stack = batch.cutouts(images[:4], pos, 15, progress=False)
    path = stack.write_fits(tmp_path / "stack.fits")
    with fits.open(path) as hdul:
        assert hdul[0].header["NCUTOUT"] == 4 and hdul[0].header["RA_POS"] == pos[0]
        index = Table(hdul["INDEX"].data)
        for i, cut in enumerate(stack, 1):
            sci, dq = hdul["SCI", i], hdul["DQ", i]
            np.testing.assert_array_equal(sci.data, cut.data)
            np.testing.assert_array_equal(hdul["ERR", i].data, cut.noise)
            np.testing.assert_array_equal(dq.data, cut.flags)
            ra, dec = WCS(sci.header).pixel_to_world_values(4.0, 9.0)
            assert (ra, dec) == pytest.approx(cut.get_wcs().pixel_to_world(4.0, 9.0), abs=1e-10)
            assert sci.header["BAND"] == cut.band and sci.header["MJD-OBS"] == cut.mjd
            assert sci.header["ZP_AB"] == pytest.approx(images[i - 1].get_zeropoint())
            assert index["FILEPATH"][i - 1] == str(images[i - 1].full_filepath)
    with pytest.raises(OSError, match="exists"):
        stack.write_fits(path)


# ----------------------------------------------------------------- photometry
def _stamp_coords(image, ra, dec, stamp):
    x, y = image.get_wcs().world_to_pixel(ra, dec)
    half = stamp // 2
    return x - (math.floor(x + 0.5) - half), y - (math.floor(y + 0.5) - half)


def _mapped_kb(path) -> int:
    """Resident kB of this process's memory maps of ``path`` (/proc/self/smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 5 and "-" in fields[0] and ":" in fields[3]:  # a mapping's header
                inside = len(fields) >= 6 and fields[5] == str(path)
            elif inside and fields[0] == "Rss:":
                total += int(fields[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="reads /proc/self/smaps")
def test_photometry_lets_go_of_the_pages_it_mapped(lc_survey, images):
    """Stamps are copies; the file's pages stay in the page cache but not in this process."""
    pos = (lc_survey.sn_ra, lc_survey.sn_dec)
    image, path = images[3], Path(images[3].full_filepath).resolve()
    direct = image.get_ra_dec_cutout(*pos, 65, mode="partial")
    assert _mapped_kb(path) > 0  # reading pixels maps pages
    table = batch.forced_photometry([image], pos, bgsize=0, progress=False)
    assert _mapped_kb(path) == 0
    sx, sy = _stamp_coords(image, *pos, 65)  # the pages come back when read again
    again = direct.ap_phot({"x": [sx], "y": [sy]}, ap_r=3.0, method="exact", bgsize=0,
                           mask="flags", error="noise")
    assert table["flux"][0] == again["aperture_sum"][0]
    np.testing.assert_array_equal(image.get_ra_dec_cutout(*pos, 65, mode="partial").data,
                                  direct.data)
    assert _mapped_kb(path) > 0


def test_photometry_equals_ap_phot_and_forced_psf_phot_on_the_stamp(lc_survey, images, psfs):
    ra, dec = lc_survey.sn_ra, lc_survey.sn_dec
    table = batch.forced_photometry(images[:6], (ra, dec), psf=psfs, progress=False)
    assert list(table.colnames) == list(batch.COLUMNS)
    assert len(table) == 12 and list(table["method"][:2]) == ["aperture", "psf"]
    for image, (ap_row, psf_row) in zip(images[:6], zip(table[::2], table[1::2], strict=True),
                                        strict=True):
        stamp = image.get_ra_dec_cutout(ra, dec, 65, mode="partial")
        sx, sy = _stamp_coords(image, ra, dec, 65)
        ap = stamp.ap_phot({"x": [sx], "y": [sy]}, ap_r=3.0, method="exact", bgsize=16,
                           mask="flags", error="noise")
        assert ap_row["flux"] == ap["aperture_sum"][0]
        assert ap_row["flux_err"] == ap["aperture_sum_err"][0]
        model = batch.EffectivePSF(psfs[image.band])
        forced = stamp.forced_psf_phot({"x": [sx], "y": [sy]}, model)
        assert psf_row["flux"] == forced["flux_fit"][0]
        assert psf_row["flux_err"] == forced["flux_err"][0]
        # the closed-form forced fit gives photutils' PSFPhotometry numbers (psf_phot)
        init = Table({"x": [sx], "y": [sy], "flux_init": [max(ap["aperture_sum"][0], 1.0)]})
        fit = stamp.psf_phot(init, model)
        assert psf_row["flux"] == pytest.approx(fit["flux_fit"][0], rel=0,
                                                abs=1e-6 * fit["flux_err"][0])
        assert psf_row["flux_err"] == pytest.approx(fit["flux_err"][0], rel=1e-6)
        zp = image.get_zeropoint()
        assert ap_row["zeropoint"] == zp
        for row in (ap_row, psf_row):
            if row["flux"] > 0:
                assert row["mag"] == pytest.approx(-2.5 * math.log10(row["flux"]) + zp, rel=1e-12)
                assert row["mag_err"] == pytest.approx(1.0857362 * row["flux_err"] / row["flux"])
            else:
                assert np.isnan(row["mag"]) and np.isnan(row["mag_err"])
        assert (ap_row["band"], ap_row["mjd"], ap_row["path"]) == (
            image.band, image.mjd, str(image.full_filepath))
        x, y = image.get_wcs().world_to_pixel(ra, dec)
        assert (ap_row["x"], ap_row["y"]) == (x, y)


def test_many_positions_each_row_is_the_image_api_on_its_stamp(lc_survey, images, psfs):
    """A field's sources over several images: every row, in image → position → method order,
    is ap_phot / forced_psf_phot of that position's own stamp; off-image positions are skipped."""
    rng = np.random.default_rng(3)
    ra, dec = images[0].get_wcs().pixel_to_world(*rng.uniform(20, 235, (2, 15)))
    positions = [*zip(ra, dec, strict=True), (lc_survey.sn_ra + 1.0, lc_survey.sn_dec)]
    table = batch.forced_photometry(images[:4], positions, psf=psfs, progress=False)
    expected, skipped, rows = [], [], iter(table[table["method"] == "aperture"])
    for image in images[:4]:
        for i, (r, d) in enumerate(positions):
            if not image.includes_radec(r, d):
                skipped.append([str(image.full_filepath), i, "position is off the image"])
                continue
            # the projection of all positions at once may differ from one position's in the
            # last bits (SIP inversion): measure at the row's x, y, checked against the WCS
            row = next(rows)
            assert (row["x"], row["y"]) == pytest.approx(
                image.get_wcs().world_to_pixel(r, d), abs=1e-9, rel=0)
            x0, y0 = math.floor(row["x"] + 0.5) - 32, math.floor(row["y"] + 0.5) - 32
            stamp = image.get_cutout(x0 + 32, y0 + 32, 65, mode="partial")
            np.testing.assert_array_equal(
                stamp.data, image.get_ra_dec_cutout(r, d, 65, mode="partial").data)
            sx, sy = row["x"] - x0, row["y"] - y0
            ap = stamp.ap_phot({"x": [sx], "y": [sy]}, ap_r=3.0, method="exact", bgsize=16,
                               mask="flags", error="noise")
            fit = stamp.forced_psf_phot({"x": [sx], "y": [sy]},
                                        batch.EffectivePSF(psfs[image.band]))
            expected += [(str(image.full_filepath), i, "aperture", ap["aperture_sum"][0],
                          ap["aperture_sum_err"][0]),
                         (str(image.full_filepath), i, "psf", fit["flux_fit"][0],
                          fit["flux_err"][0])]
    got = list(zip(table["path"], table["position"], table["method"], table["flux"],
                   table["flux_err"], strict=True))
    assert got == expected and len(got) > 40
    assert table.meta["skipped"] == skipped and len(skipped) >= 4
    assert table["position"].dtype == np.int64 and table["flux"].dtype == np.float64


def test_stamp_photometry_equals_full_image_where_it_must(lc_survey, images, psfs):
    """No background map: the stamp's aperture sums are the full image's; the PSF fit's annulus
    lies inside the stamp, so it is the full image's too."""
    ra, dec = lc_survey.sn_ra, lc_survey.sn_dec
    image = images[5]
    x, y = image.get_wcs().world_to_pixel(ra, dec)
    table = batch.forced_photometry([image], (ra, dec), psf=psfs, bgsize=0, progress=False)
    full = image.ap_phot({"x": [x], "y": [y]}, ap_r=3.0, method="exact", bgsize=0, mask="flags",
                         error="noise")
    assert table["flux"][0] == pytest.approx(full["aperture_sum"][0], rel=1e-12)
    assert table["flux_err"][0] == pytest.approx(full["aperture_sum_err"][0], rel=1e-12)
    init = Table({"x": [x], "y": [y], "flux_init": [max(full["aperture_sum"][0], 1.0)]})
    fit = image.psf_phot(init, batch.EffectivePSF(psfs[image.band]))
    assert table["flux"][1] == pytest.approx(fit["flux_fit"][0], rel=1e-6)
    whole = batch.forced_photometry([image], (ra, dec), stamp=None, bgsize=0, progress=False)
    assert whole["flux"][0] == full["aperture_sum"][0]


def test_flag_fraction_is_the_flagged_share_of_the_aperture():
    """A circle centred on a pixel edge, flags on one side: exactly half by symmetry."""
    data = np.full((101, 101), 10.0, np.float32)
    flags = np.zeros((101, 101), np.uint32)
    flags[:, 51:] = 4
    wcs = tan_wcs()
    image = Numpy2DImage(data=data, noise=np.ones_like(data), flags=flags, wcs=wcs)
    ra, dec = wcs.pixel_to_world_values(50.5, 50.0)
    row = batch.forced_photometry([image], (float(ra), float(dec)), bgsize=0, progress=False)[0]
    assert row["flag_frac"] == pytest.approx(0.5, abs=1e-9)
    assert row["flux"] == pytest.approx(10.0 * np.pi * 9 / 2, rel=1e-6)
    assert np.isnan(row["zeropoint"]) and np.isnan(row["mag"])


def test_positions_off_an_image_are_skipped_with_a_reason(lc_survey, images):
    far = (lc_survey.sn_ra + 1.0, lc_survey.sn_dec)
    table = batch.forced_photometry(images[:2], [(lc_survey.sn_ra, lc_survey.sn_dec), far],
                                    progress=False)
    assert list(table["position"]) == [0, 0]
    assert [s[1:] for s in table.meta["skipped"]] == [[1, "position is off the image"]] * 2
    assert table.meta["parameters"]["ap_r"] == 3.0


@pytest.mark.parametrize("params, match", [
    ({"ap_r": 0}, "ap_r"), ({"method": "fast"}, "method"), ({"bgsize": -1}, "bgsize"),
    ({"stamp": 64}, "odd"), ({"stamp": 7}, "too small"), ({"bgsize": 99}, "larger than"),
    ({"fit_shape": (4, 4)}, "fit_shape"), ({"bginner": 30}, "bginner"),
])
def test_photometry_parameters_checked_before_reading(params, match):
    with pytest.raises(ValueError, match=match):
        batch.forced_photometry([object()], (1, 2), **params)


def test_unknown_parameter_named():
    with pytest.raises(TypeError, match="radius"):
        batch.forced_photometry([], (1, 2), radius=3)


@pytest.mark.slow
def test_supernova_light_curve_recovered_within_errors(lc_survey, images, psfs):
    """PSF fluxes against the simulator's injected fluxes: every epoch of both bands."""
    table = batch.forced_photometry(images, (lc_survey.sn_ra, lc_survey.sn_dec), psf=psfs,
                                    progress=False)
    psf = table[table["method"] == "psf"]
    truth = np.array([e["sn_flux"] for e in lc_survey.exposures])
    pulls = (psf["flux"] - truth) / psf["flux_err"]
    for band in ("Y106", "H158"):
        assert np.count_nonzero(psf["band"] == band) >= 10
    assert np.all(np.abs(pulls) < 4), pulls
    assert abs(pulls.mean()) < 1.0 and 0.4 < pulls.std() < 1.6, pulls
    bright = truth > 3000
    mags = -2.5 * np.log10(truth[bright]) + psf["zeropoint"][bright]
    assert np.all(np.abs(psf["mag"][bright] - mags) < 4 * psf["mag_err"][bright])
