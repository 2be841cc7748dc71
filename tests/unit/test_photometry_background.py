"""ap_phot's background (box statistics of every box, map evaluated on the apertures only) compared
with photutils' Background2D + aperture_photometry called directly on the full image."""

import warnings

import numpy as np
import pytest
from astropy.io import fits
from astropy.utils.exceptions import AstropyUserWarning
from fitsmaker import make_ou2024_file
from photutils.aperture import CircularAperture, aperture_photometry
from photutils.background import Background2D

from snapscope.image import OpenUniverse2024FITSImage, _background
from snapscope.image._background import BackgroundMesh

RTOL = 1e-6


def sky(shape, seed, stars=0.01, sky_level=138.0):
    """Gaussian sky with a fraction ``stars`` of bright pixels (float32)."""
    rng = np.random.default_rng(seed)
    data = rng.normal(sky_level, 15.0, shape) + 40 * np.sin(np.arange(shape[1]) / 40.0)
    data += (rng.random(shape) < stars) * rng.uniform(100, 5000, shape)
    return data.astype("f4")


def fits_image(tmp_path, sci, dq=None):
    """An OU2024 file holding ``sci`` (and ``dq``), opened as a new Image would be."""
    path, _ = make_ou2024_file(tmp_path, shape=sci.shape)
    with fits.open(path, mode="update") as hdul:
        hdul["SCI"].data = sci
        if dq is not None:
            hdul["DQ"].data = dq.astype("u4")
    return OpenUniverse2024FITSImage(full_filepath=path)


def direct(sci, x, y, box, ap_r, mask=None, error=None, **kwargs):
    """snappl's recipe with photutils called directly on the full image."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        background = Background2D(sci, box_size=box, mask=mask).background
    apertures = CircularAperture(np.transpose([x, y]), r=ap_r)
    return aperture_photometry(sci - background, apertures, mask=mask, error=error, **kwargs)


def assert_same_table(got, ref):
    for name in ref.colnames:
        np.testing.assert_allclose(np.asarray(got[name]), np.asarray(ref[name]), rtol=RTOL,
                                   atol=0, equal_nan=True, err_msg=name)


EDGES_X = [0.0, 256.6, 3.2, 254.0, 128.0, 200.3, -30.0, 400.0, -3.0, 130.5, 62.7]
EDGES_Y = [0.0, 299.4, 150.0, 10.0, 296.0, 250.7, 40.0, 400.0, 100.0, 131.0, 299.9]


def test_partial_boxes_edges_corners_and_off_image(tmp_path):
    sci = sky((300, 257), seed=1)  # 300 = 3·96 + 12 and 257 = 2·96 + 65: partial boxes left out
    im = fits_image(tmp_path, sci)
    got = im.ap_phot({"x": EDGES_X, "y": EDGES_Y}, ap_r=6, bgsize=96)
    assert_same_table(got, direct(sci, EDGES_X, EDGES_Y, 96, 6, method="subpixel", subpixels=5))


def test_nans_infs_and_flags(tmp_path):
    rng = np.random.default_rng(2)
    sci = sky((200, 230), seed=2)
    sci[20:35, 40:70] = np.nan  # more than 10 % of a 40² box: left out (IDW-filled)
    sci[rng.integers(0, 200, 50), rng.integers(0, 230, 50)] = np.nan
    sci[150, 7] = np.inf
    dq = np.zeros(sci.shape, "u4")
    dq[100:150, 160:200] = 4  # a flagged region, two boxes left out
    dq[rng.integers(0, 200, 300), rng.integers(0, 230, 300)] = 2048
    dq[20:30, 40:50] = 1  # part of the NaN block is flagged, part is not: photutils warns
    im = fits_image(tmp_path, sci, dq)
    x = [45.0, 120.2, 170.0, 5.5, 226.0, 60.0, 180.4]
    y = [27.0, 60.7, 125.0, 195.0, 2.0, 110.0, 198.5]
    with pytest.warns(AstropyUserWarning, match="nonfinite"):
        got = im.ap_phot({"x": x, "y": y}, ap_r=5, bgsize=40, mask="flags", error="noise",
                         method="exact")
    ref = direct(sci, x, y, 40, 5, mask=dq != 0, error=im.noise, method="exact")
    assert_same_table(got, ref)
    assert np.isfinite(got["aperture_sum"][2])  # inside the flagged region: masked, finite


def test_kept_partial_boxes_and_a_mask_array(tmp_path):
    sci = sky((196, 295), seed=3, stars=0.002)  # 96- and 95-pixel edge boxes keep ≥ 90 % pixels
    mask = np.zeros(sci.shape, bool)
    mask[150:170, 10:60] = True
    im = fits_image(tmp_path, sci)
    x, y = [290.0, 150.0, 30.0, 294.9], [190.0, 98.0, 160.0, 0.1]
    got = im.ap_phot({"x": x, "y": y}, ap_r=8, bgsize=100, mask=mask, method="center")
    assert_same_table(got, direct(sci, x, y, 100, 8, mask=mask, method="center"))
    assert (Background2D(sci, 100, mask=mask).n_pixels_mesh[-1] >= 9000).any()  # edge box kept


def test_a_large_image(tmp_path):
    sci = sky((2048, 2048), seed=4)  # 4 × 4 boxes of 511² and a 4-pixel edge, as on a 4088² SCA
    sci[1000:1003] = np.nan
    rng = np.random.default_rng(5)
    dq = (rng.random(sci.shape) < 0.003) * 4
    im = fits_image(tmp_path, sci, dq)
    x, y = rng.uniform(-5, 2053, (2, 100))
    with pytest.warns(AstropyUserWarning, match="nonfinite"):
        half = im.ap_phot({"x": x[::2], "y": y[::2]}, bgsize=511, mask="flags")
    got = im.ap_phot({"x": x, "y": y}, bgsize=511, mask="flags")  # half of the boxes done already
    ref = direct(sci, x, y, 511, 9, mask=dq != 0, method="subpixel", subpixels=5)
    assert_same_table(got, ref)
    np.testing.assert_array_equal(half["aperture_sum"], got["aperture_sum"][::2])


@pytest.mark.parametrize("dtype", ["f4", "f8", "i2"])
def test_background_map_equals_photutils(dtype):
    data = sky((203, 170), seed=6).astype(dtype)
    expected = Background2D(data, box_size=32).background
    rows, cols = np.indices(data.shape)
    got = BackgroundMesh(data, 32).at(rows, cols)
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)


def test_box_larger_than_the_image_and_a_constant_image():
    data = sky((50, 70), seed=7)
    rows, cols = np.indices(data.shape)
    np.testing.assert_array_equal(BackgroundMesh(data, 511).at(rows, cols),
                                  Background2D(data, 511).background)
    flat = np.full((60, 60), 3.5, "f4")
    np.testing.assert_array_equal(BackgroundMesh(flat, 20).at(rows[:5], cols[:5]), 3.5)


def test_boxes_whose_median_leaves_the_sorted_band_are_sorted_whole(monkeypatch):
    data = sky((256, 384), seed=8, stars=0.0)  # boxes of 128² pixels: measured from sorted parts
    rng = np.random.default_rng(9)
    data[:128, :128] += (rng.random((128, 128)) < 0.1) * 2000  # crowded: the median moves
    sorted_whole = []
    real = _background._whole
    monkeypatch.setattr(_background, "_whole", lambda boxes: sorted_whole.append(len(boxes))
                        or real(boxes))
    mesh = BackgroundMesh(data, 128)
    assert sorted_whole == [1]
    np.testing.assert_allclose(mesh.mesh, Background2D(data, 128).background_mesh, rtol=RTOL)


def test_photutils_errors_are_kept():
    with pytest.raises(ValueError, match="All input pixels are masked"):
        BackgroundMesh(np.full((40, 40), np.nan), 10)
    mask = np.zeros((40, 40), bool)
    mask[::2] = True  # every box half masked
    with pytest.raises(ValueError, match="All boxes contain fewer than"):
        BackgroundMesh(np.ones((40, 40)), 10, mask)


@pytest.mark.parametrize("box", [40, 128])
def test_skewed_boxes(box):
    rng = np.random.default_rng(10)
    data = rng.normal(100.0, 1.0, (256, 256)) + 10.0 * (rng.random((256, 256)) < 0.3)  # bimodal
    data[:, 128:] += np.arange(128) / 8.0  # and a gradient
    expected = Background2D(data.astype("f4"), box).background_mesh
    np.testing.assert_allclose(BackgroundMesh(data.astype("f4"), box).mesh, expected, rtol=RTOL)
