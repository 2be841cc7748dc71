"""WCS conversions, footprints (includes_radec), position angles — checked against astropy."""

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.wcs.utils import skycoord_to_pixel
from fitsmaker import make_ou2024_file, make_wcs

from snapscope.image import Numpy2DImage, OpenUniverse2024FITSImage
from snapscope.wcs import AstropyWCS, GalsimWCS


def test_astropy_wcs_scalars_and_arrays():
    w = make_wcs((100, 80), sip=True)
    sw = AstropyWCS(w)
    ra, dec = sw.pixel_to_world(3, 4)
    assert type(ra) is float and type(dec) is float
    assert (ra, dec) == pytest.approx(tuple(float(v) for v in w.all_pix2world(3, 4, 0)), abs=1e-12)
    ras, decs = sw.pixel_to_world([0, 10], [5, 6])
    assert isinstance(ras, np.ndarray) and ras.shape == (2,)
    one = sw.pixel_to_world(np.array([3.0]), np.array([4.0]))
    assert type(one[0]) is float, "a one-element array gives floats, as snappl"
    x, y = sw.world_to_pixel(ras, decs)
    np.testing.assert_allclose(x, [0, 10], atol=1e-8)
    np.testing.assert_allclose(y, [5, 6], atol=1e-8)


def test_galsim_wcs_agrees_with_astropy():
    pytest.importorskip("galsim")
    header = make_wcs((100, 80), sip=True).to_header(relax=True)
    a, g = AstropyWCS.from_header(header), GalsimWCS.from_header(header)
    xs, ys = np.array([0.0, 79, 40.5]), np.array([0.0, 99, 50.2])
    for (ra1, dec1), (ra2, dec2) in [(a.pixel_to_world(xs, ys), g.pixel_to_world(xs, ys))]:
        np.testing.assert_allclose(ra1, ra2, atol=1e-9)
        np.testing.assert_allclose(dec1, dec2, atol=1e-9)
    x, y = g.world_to_pixel(*a.pixel_to_world(12.0, 34.0))
    assert (x, y) == pytest.approx((12.0, 34.0), abs=1e-6)


def test_fits_image_wcs_cache_and_class(tmp_path):
    pytest.importorskip("galsim")
    path, _ = make_ou2024_file(tmp_path, shape=(20, 20))
    im = OpenUniverse2024FITSImage(full_filepath=path)
    w = im.get_wcs()
    assert isinstance(w, AstropyWCS) and im.get_wcs() is w
    g = im.get_wcs("GalsimWCS")
    assert isinstance(g, GalsimWCS) and im.get_wcs("GalsimWCS") is g
    with pytest.raises(TypeError, match="doesn't know how to get a WCS of type Nope"):
        im.get_wcs("Nope")


def test_far_side_projects_to_nan():
    sw = AstropyWCS(make_wcs((10, 10), ra=10, dec=20))
    x, y = sw.world_to_pixel(190.0, -20.0)
    assert np.isnan(x) and np.isnan(y)


@pytest.mark.parametrize("ra,dec,rot", [(7.55, -44.8, 20), (0.0, 3.0, -35), (359.999, -10, 90),
                                        (120.0, 89.99, 0), (45.0, -89.98, 150)])
def test_includes_radec_is_the_true_footprint(ra, dec, rot):
    shape = (60, 40)
    w = make_wcs(shape, ra=ra, dec=dec, rot_deg=rot)
    im = Numpy2DImage(data=np.zeros(shape), wcs=w)
    rng = np.random.default_rng(5)
    px = rng.uniform(-5, 45, 2000)
    py = rng.uniform(-5, 65, 2000)
    sra, sdec = w.all_pix2world(px, py, 0)
    inside = im.includes_radec(sra, sdec)
    expect = (px >= -0.5) & (px < 39.5) & (py >= -0.5) & (py < 59.5)
    margin = np.minimum.reduce([abs(px + 0.5), abs(px - 39.5), abs(py + 0.5), abs(py - 59.5)])
    safe = margin > 1e-6
    np.testing.assert_array_equal(inside[safe], expect[safe])
    # the centre of pixel (0, 0) is inside (snappl's box can reject it) and W-0.4 is outside
    r0, d0 = w.all_pix2world(0, 0, 0)
    r1, d1 = w.all_pix2world(39.6, 10, 0)
    assert im.includes_radec(float(r0), float(d0)) is True
    assert im.includes_radec(float(r1), float(d1)) is False
    # RA given wrapped by ±360 is the same point
    assert im.includes_radec(float(r0) + 360, float(d0)) is True


def test_includes_radec_matches_astropy_away_from_edges():
    shape = (50, 50)
    w = make_wcs(shape, ra=0.001, dec=0.0, rot_deg=10)
    im = Numpy2DImage(data=np.zeros(shape), wcs=w)
    for ra, dec in [(359.9995, 0.0), (0.0025, 0.001), (0.004, 0.0)]:
        x, y = skycoord_to_pixel(SkyCoord(ra, dec, unit="deg"), w, origin=0)
        assert im.includes_radec(ra, dec) == bool(-0.5 <= x < 49.5 and -0.5 <= y < 49.5)


@pytest.mark.parametrize("ra,rot", [(7.55, 20.0), (0.0, -35.0), (359.99995, 120.0), (200.0, -170.0)])
def test_position_angle_matches_cd_formula(ra, rot):
    w = make_wcs((64, 64), ra=ra, dec=-30, rot_deg=rot)
    im = Numpy2DImage(data=np.zeros((64, 64)), wcs=w)
    cd = w.wcs.cd
    expect = np.degrees(np.arctan2(-cd[1, 0], cd[1, 1]))
    assert im.position_angle == pytest.approx(expect, abs=0.01)


@pytest.mark.parametrize("kind", ["sip", "tan+pv"])
def test_wcs_from_header_text_equals_from_header(kind):
    """Raw header text (what the file cache has) builds the same WCS, TAN+PV relabelled TPV."""
    from astropy.io import fits

    header = make_wcs((100, 80), sip=kind == "sip").to_header(relax=True)
    if kind == "tan+pv":  # a TPV distortion written with TAN ctypes (snappl relabels it)
        header.update({"PV1_0": 0.0, "PV1_1": 1.0, "PV1_4": 2e-3, "PV2_0": 0.0, "PV2_1": 1.0})
    text = header.tostring()
    from_text, from_header = AstropyWCS.from_header(text), AstropyWCS.from_header(header)
    assert from_text.get_astropy_wcs().wcs.ctype[0] == from_header.get_astropy_wcs().wcs.ctype[0]
    xs, ys = np.array([0.0, 79, 40.5]), np.array([0.0, 99, 50.2])
    np.testing.assert_array_equal(from_text.pixel_to_world(xs, ys), from_header.pixel_to_world(xs, ys))
    if kind == "tan+pv":  # the PV terms are used: not the plain TAN projection
        plain = fits.Header(header)
        for key in ("PV1_0", "PV1_1", "PV1_4", "PV2_0", "PV2_1"):
            del plain[key]
        assert not np.allclose(AstropyWCS.from_header(plain).pixel_to_world(xs, ys)[0],
                               from_text.pixel_to_world(xs, ys)[0], rtol=0, atol=1e-9)


def _image_header_text(w, shape, extra=None):
    """The header text of an image HDU of ``shape`` carrying WCS ``w`` (and ``extra`` cards)."""
    from astropy.io import fits

    hdu = fits.ImageHDU(np.zeros(shape, np.float32), header=w.to_header(relax=True))
    hdu.header.update({"MJD-OBS": 62000.5, "DATE-OBS": "2028-09-08T12:00:00", **(extra or {})})
    return hdu.header.tostring()


@pytest.mark.parametrize("sip", [False, True])
@pytest.mark.parametrize("ra, dec, rot", [(7.55, -44.8, 20.0), (359.99, 0.3, -135.0),
                                          (150.0, 89.9, 75.0), (0.01, -89.95, 0.0)])
def test_plain_tan_wcs_is_astropys_own(sip, ra, dec, rot):
    """The ~1 ms construction gives exactly astropy's WCS(header): same header, same numbers."""
    import warnings

    from astropy.wcs import WCS

    from snapscope.wcs import _plain_tan_wcs

    shape = (96, 130)
    text = _image_header_text(make_wcs(shape, ra=ra, dec=dec, rot_deg=rot, sip=sip), shape)
    fast = _plain_tan_wcs(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = WCS(text)
    assert fast is not None
    assert fast.to_header_string(relax=True) == ref.to_header_string(relax=True)
    assert fast.pixel_shape == ref.pixel_shape == (130, 96)
    assert (fast.sip is None) == (ref.sip is None) == (not sip)
    x, y = np.random.default_rng(1).uniform(-50, 180, (2, 500))
    sky = ref.all_pix2world(x, y, 0)
    np.testing.assert_array_equal(fast.all_pix2world(x, y, 0), sky)
    np.testing.assert_array_equal(fast.all_world2pix(*sky, 0), ref.all_world2pix(*sky, 0))


@pytest.mark.parametrize("extra", [{"PV1_0": 0.0}, {"AP_ORDER": 2}, {"CTYPE1A": "RA---TAN"},
                                   {"WCSAXES": 3}, {"CPDIS1": "LOOKUP"}, {"NAXIS": 3}])
def test_plain_tan_wcs_leaves_other_headers_to_astropy(extra):
    from snapscope.wcs import _plain_tan_wcs

    shape = (20, 30)
    assert _plain_tan_wcs(_image_header_text(make_wcs(shape, sip=True), shape, extra)) is None
