"""Cutouts compared with astropy's Cutout2D called directly on the same arrays."""

import math

import numpy as np
import pytest
from astropy.nddata import Cutout2D, NoOverlapError, PartialOverlapError
from fitsmaker import make_ou2024_file

from snapscope.exceptions import OutsideImageError
from snapscope.image import Numpy2DImage, OpenUniverse2024FITSImage
from snapscope.wcs import AstropyWCS


@pytest.fixture(scope="module", params=[False, True], ids=["tan", "sip"])
def ou(request, tmp_path_factory):
    path, truth = make_ou2024_file(tmp_path_factory.mktemp("cut"), shape=(120, 100), sip=request.param,
                                   dq_bits={(50, 40): 4})
    return path, truth


def test_strict_cutout_equals_cutout2d(ou):
    path, truth = ou
    im = OpenUniverse2024FITSImage(full_filepath=path)
    cut = im.get_cutout(40, 50, 11, 7)
    ref = Cutout2D(truth["sci"], (40, 50), size=(7, 11), wcs=truth["wcs"], mode="strict")
    assert type(cut) is OpenUniverse2024FITSImage and cut.image_shape == (7, 11)
    np.testing.assert_array_equal(cut.data, ref.data)
    np.testing.assert_array_equal(cut.data, truth["sci"][47:54, 35:46])
    np.testing.assert_array_equal(cut.noise, truth["err"][47:54, 35:46])
    assert cut.flags[3, 5] == 4 and cut.flags.sum() == 4
    xs, ys = np.array([0, 5, 10, 3.3]), np.array([0, 3, 6, 1.7])
    ra, dec = cut.get_wcs().pixel_to_world(xs, ys)
    ra_ref, dec_ref = ref.wcs.all_pix2world(xs, ys, 0)
    np.testing.assert_allclose(ra, ra_ref, atol=1e-11)
    np.testing.assert_allclose(dec, dec_ref, atol=1e-11)
    assert isinstance(cut.get_wcs(), AstropyWCS)


def test_cutout_metadata_is_its_own(ou):
    path, truth = ou
    im = OpenUniverse2024FITSImage(full_filepath=path)
    parent_corner = im.ra_corner_00
    cut = im.get_cutout(40, 50, 11)
    assert (cut.band, cut.mjd, cut.sca, cut.observation_id) == (im.band, im.mjd, im.sca, im.observation_id)
    assert cut.get_zeropoint() == im.get_zeropoint()
    header = cut.get_fits_header()
    assert header is not im.get_fits_header()  # snappl shares the parent's header object
    assert (header["NAXIS1"], header["NAXIS2"]) == (11, 11)
    assert header["CRPIX1"] == im.get_fits_header()["CRPIX1"] - 35
    ra00, dec00 = truth["wcs"].all_pix2world(35, 45, 0)
    assert cut.ra_corner_00 == pytest.approx(float(ra00), abs=1e-10) and cut.ra_corner_00 != parent_corner
    assert cut.dec_corner_00 == pytest.approx(float(dec00), abs=1e-10)


def test_partial_cutouts_fill_like_cutout2d(ou):
    path, truth = ou
    im = OpenUniverse2024FITSImage(full_filepath=path)
    cut = im.get_cutout(2, 60, 21, mode="partial")
    ref = Cutout2D(truth["sci"], (2, 60), size=21, mode="partial", fill_value=np.nan)
    np.testing.assert_array_equal(cut.data, ref.data)
    assert np.isnan(cut.data[:, :8]).all() and not np.isnan(cut.data[:, 8:]).any()
    assert (cut.flags[:, :8] == 1).all(), "flags off the image are 1 (bad pixel), as snappl"
    top = im.get_cutout(50, 117, 21, mode="partial", fill_value=-7.0)
    assert (top.data[-7:, :] == -7).all()


def test_overlap_errors(ou):
    path, _ = ou
    im = OpenUniverse2024FITSImage(full_filepath=path)
    with pytest.raises(PartialOverlapError):
        im.get_cutout(5, 60, 21)
    for mode in ("strict", "partial"):
        with pytest.raises(OutsideImageError, match=r"\(x, y\) = \(50, 400\) is outside the image of "
                           rf"{im.width} × {im.height} pixels") as err:
            im.get_cutout(50, 400, 21, mode=mode)
        assert isinstance(err.value, NoOverlapError), "snappl code catches astropy's error"
    for size in (10, 0, -3):
        with pytest.raises(ValueError, match=f"xsize must be a positive odd integer.*got xsize={size}"):
            im.get_cutout(50, 50, size)
    with pytest.raises(ValueError, match="ysize must be a positive odd integer"):
        im.get_cutout(50, 50, 11, -1)
    with pytest.raises(TypeError, match="xsize must be an integer"):
        im.get_cutout(50, 50, 10.5)
    with pytest.raises(ValueError, match="mode must be"):
        im.get_cutout(50, 50, 11, mode="trim")


def test_float_centre_goes_to_nearest_pixel(ou):
    path, truth = ou
    im = OpenUniverse2024FITSImage(full_filepath=path)
    np.testing.assert_array_equal(im.get_cutout(40.5, 49.49, 3).data, truth["sci"][48:51, 40:43])


def test_ra_dec_cutout_centres_on_nearest_pixel(ou):
    path, truth = ou
    im = OpenUniverse2024FITSImage(full_filepath=path)
    ra, dec = truth["wcs"].all_pix2world(61.3, 33.8, 0)
    cut = im.get_ra_dec_cutout(float(ra), float(dec), 5)
    x, y = truth["wcs"].all_world2pix(ra, dec, 0)
    xi, yi = math.floor(x + 0.5), math.floor(y + 0.5)
    assert (xi, yi) == (61, 34)
    np.testing.assert_array_equal(cut.data, truth["sci"][yi - 2:yi + 3, xi - 2:xi + 3])
    with pytest.raises(OutsideImageError, match=rf"\(ra, dec\) = \({float(ra) + 1.0}, {float(dec)}\), "
                       r"pixel \(x, y\) = .* is outside the image"):
        im.get_ra_dec_cutout(float(ra) + 1.0, float(dec), 5)
    edge_ra, edge_dec = truth["wcs"].all_pix2world(0, 60, 0)
    with pytest.raises(PartialOverlapError):
        im.get_ra_dec_cutout(float(edge_ra), float(edge_dec), 55)
    part = im.get_ra_dec_cutout(float(edge_ra), float(edge_dec), 55, mode="partial")
    assert np.isnan(part.data).sum() == 55 * 27


def test_cutout_of_numpy_image_without_wcs():
    data = np.arange(100.0).reshape(10, 10)
    cut = Numpy2DImage(data=data).get_cutout(4, 5, 3)
    np.testing.assert_array_equal(cut.data, data[4:7, 3:6])
    from snapscope.exceptions import NoWCSError

    with pytest.raises(NoWCSError):
        cut.get_wcs()


def test_cutout_of_a_cutout(ou):
    path, truth = ou
    cut = OpenUniverse2024FITSImage(full_filepath=path).get_cutout(40, 50, 21)
    inner = cut.get_cutout(10, 10, 5)
    np.testing.assert_array_equal(inner.data, truth["sci"][48:53, 38:43])
    ra, dec = inner.get_wcs().pixel_to_world(2, 2)
    expected = tuple(float(v) for v in truth["wcs"].all_pix2world(40, 50, 0))
    assert (ra, dec) == pytest.approx(expected, abs=1e-11)
