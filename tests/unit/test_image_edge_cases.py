"""Degenerate images: one pixel, all NaN, all flagged, near a pole, across RA = 0."""

import numpy as np
import pytest
from astropy.nddata import PartialOverlapError
from fitsmaker import make_ou2024_file, make_wcs

from snapscope.image import Numpy2DImage, OpenUniverse2024FITSImage


def test_one_pixel_image(tmp_path):
    path, truth = make_ou2024_file(tmp_path, shape=(1, 1))
    im = OpenUniverse2024FITSImage(full_filepath=path)
    assert im.image_shape == (1, 1)
    assert im.get_cutout(0, 0, 1).data[0, 0] == truth["sci"][0, 0]
    with pytest.raises(PartialOverlapError):
        im.get_cutout(0, 0, 3)
    assert im.get_cutout(0, 0, 3, mode="partial").data[1, 1] == truth["sci"][0, 0]
    ra, dec = truth["wcs"].all_pix2world(0, 0, 0)
    assert im.ra_corner_00 == im.ra_corner_11 == pytest.approx(float(ra))
    assert im.includes_radec(float(ra), float(dec))
    assert im.position_angle == pytest.approx(-20.0, abs=0.01)


def test_all_nan_and_all_flagged():
    data = np.full((20, 30), np.nan)
    im = Numpy2DImage(data=data, flags=np.full((20, 30), 4, "u4"), wcs=make_wcs((20, 30)))
    assert im.fraction_masked() == 1.0
    cut = im.get_cutout(10, 10, 5)
    assert np.isnan(cut.data).all() and (cut.flags == 4).all()
    table = im.ap_phot({"x": [10.0], "y": [10.0]}, ap_r=2, bgsize=0)
    assert np.isnan(table["aperture_sum"][0])
    masked = im.ap_phot({"x": [10.0], "y": [10.0]}, ap_r=2, bgsize=0, mask="flags")
    assert masked["aperture_sum"][0] == 0


@pytest.mark.parametrize("dec", [89.998, -89.998])
def test_image_on_a_pole(dec):
    shape = (200, 200)
    w = make_wcs(shape, ra=0.0, dec=dec, rot_deg=33)  # the pole is on the image
    im = Numpy2DImage(data=np.zeros(shape), wcs=w)
    pole = np.sign(dec) * 90.0
    x, y = w.all_world2pix(123.0, pole, 0)
    assert im.includes_radec(123.0, pole) == bool(-0.5 <= x < 199.5 and -0.5 <= y < 199.5) is True
    assert im.includes_radec(0.0, -pole) is False
    ras = np.array([im.ra_corner_00, im.ra_corner_01, im.ra_corner_10, im.ra_corner_11])
    assert np.ptp(ras) > 180, "corners around a pole span all RAs"
    cut = im.get_ra_dec_cutout(200.0, pole, 11)
    assert cut.includes_radec(17.0, pole)


def test_cutout_across_ra_zero():
    shape = (100, 100)
    w = make_wcs(shape, ra=0.0, dec=10.0, rot_deg=0)
    data = np.arange(1e4).reshape(shape)
    im = Numpy2DImage(data=data, wcs=w)
    ra, dec = w.all_pix2world(49.0, 49.0, 0)
    cut = im.get_ra_dec_cutout(float(ra), float(dec), 11)
    np.testing.assert_array_equal(cut.data, data[44:55, 44:55])
    assert cut.ra_corner_00 < 1 and cut.ra_corner_10 > 359
    assert im.includes_radec(float(ra) - 360, float(dec))
