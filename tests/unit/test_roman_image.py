"""RomanDatamodelImage on small ASDF files that roman_datamodels itself writes."""

import logging
import math
import mmap
import subprocess
import sys

import numpy as np
import pytest
from astropy.nddata import NoOverlapError, PartialOverlapError

rdm_datamodels = pytest.importorskip("roman_datamodels.datamodels")

from snapscope.exceptions import ImageFileError, NoWCSError  # noqa: E402
from snapscope.image import FITSImage  # noqa: E402
from snapscope.image._roman import RomanDatamodelImage  # noqa: E402
from snapscope.wcs import GWCS  # noqa: E402

NX, NY = 64, 48  # not square, so x/y swaps show
RA0, DEC0 = 10.0, -40.0
CONVERSION, PIXEL_AREA = 0.3, 2.84e-13  # MJy/sr per DN/s; sr
START, END = 60000.25, 60000.2510  # MJD

# gwcs (via scipy >= 1.18) warns when fitting the SIP approximation in float128
sip_fit_warning = pytest.mark.filterwarnings(
    "ignore:Calling .*lu_.* with arguments of dtype=float128:DeprecationWarning"
)


def make_gwcs():
    """A TAN gwcs with a small quadratic distortion (~0.1 px at the corners) and a bounding
    box, as Roman's (which carry one)."""
    import astropy.coordinates as coord
    import astropy.units as u
    from astropy.modeling import fitting, models
    from gwcs import coordinate_frames as cf
    from gwcs import wcs as gwcs_wcs

    cx, cy = (NX - 1) / 2, (NY - 1) / 2
    poly = models.Polynomial2D
    distortion = models.Mapping((0, 1, 0, 1)) | (
        poly(2, c1_0=1.0, c2_0=8e-5, c1_1=3e-5) & poly(2, c0_1=1.0, c0_2=-6e-5, c1_1=2e-5)
    )
    # Roman's distortion models carry a fitted polynomial inverse too (good to ~1e-8 px here)
    gx, gy = np.meshgrid(np.linspace(-40, 40, 41), np.linspace(-30, 30, 31))
    dx, dy = distortion(gx, gy)
    fit = fitting.LinearLSQFitter()
    distortion.inverse = models.Mapping((0, 1, 0, 1)) | (
        fit(poly(4), dx, dy, gx) & fit(poly(4), dx, dy, gy)
    )
    scale = 0.11 / 3600
    angle = math.radians(25.0)
    cd = scale * np.array([[-math.cos(angle), math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    transform = (
        (models.Shift(-cx) & models.Shift(-cy))
        | distortion
        | models.AffineTransformation2D(matrix=cd)
        | models.Pix2Sky_TAN()
        | models.RotateNative2Celestial(RA0, DEC0, 180.0)
    )
    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    sky = cf.CelestialFrame(reference_frame=coord.ICRS(), name="icrs", unit=(u.deg, u.deg))
    wcs = gwcs_wcs.WCS([(detector, transform), (sky, None)])
    wcs.bounding_box = ((-0.5, NX - 0.5), (-0.5, NY - 0.5))
    return wcs


def make_model(rng, with_wcs=True):
    from astropy.time import Time

    model = rdm_datamodels.ImageModel.create_fake_data(shape=(NY, NX))
    model.data = rng.normal(5.0, 1.0, (NY, NX)).astype(np.float32)
    model.err = rng.uniform(0.5, 1.0, (NY, NX)).astype(np.float16)
    model.dq = np.where(rng.random((NY, NX)) < 0.1, 4, 0).astype(np.uint32)
    model.meta.instrument.optical_element = "F106"
    model.meta.instrument.detector = "WFI07"
    model.meta.observation.observation_id = "r00032010010010010040001"
    model.meta.exposure.start_time = Time(START, format="mjd")
    model.meta.exposure.end_time = Time(END, format="mjd")
    model.meta.exposure.exposure_time = 86.4
    model.meta.photometry.conversion_megajanskys = CONVERSION
    model.meta.photometry.pixel_area = PIXEL_AREA
    model.meta.statistics = {
        "zodiacal_light": 0.0,
        "image_median": 5.0,
        "image_rms": 1.0,
        "good_pixel_fraction": 0.9,
    }
    model.meta.wcs = make_gwcs() if with_wcs else None
    return model


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Read-only ASDF files: lz4-compressed (roman_datamodels' default) and uncompressed."""
    out = tmp_path_factory.mktemp("rdm")
    rng = np.random.default_rng(42)
    model = make_model(rng)
    paths = {"lz4": out / "image_lz4.asdf", "raw": out / "image_raw.asdf"}
    model.save(paths["lz4"])
    model.save(paths["raw"], all_array_compression=None)
    paths["placeholder"] = out / "placeholder.asdf"
    rdm_datamodels.ImageModel.create_fake_data(shape=(8, 8)).save(paths["placeholder"])
    paths["nowcs"] = out / "nowcs.asdf"
    make_model(rng, with_wcs=False).save(paths["nowcs"])
    paths["arrays"] = {"data": model.data.copy(), "err": model.err.copy(), "dq": model.dq.copy()}
    return paths


@pytest.fixture
def image(files):
    """A fresh image of the compressed file."""
    im = RomanDatamodelImage(full_filepath=files["lz4"])
    yield im
    im.free()


# ------------------------------------------------------------------------------ opening


def test_module_import_is_light():
    code = (
        "import sys, snapscope.image, snapscope.image._roman; "
        "assert 'roman_datamodels' not in sys.modules and 'gwcs' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_file(tmp_path):
    with pytest.raises(ImageFileError, match="No such Roman ASDF file"):
        _ = RomanDatamodelImage(full_filepath=tmp_path / "nope.asdf").width


def test_not_asdf(tmp_path):
    path = tmp_path / "junk.asdf"
    path.write_text("not asdf")
    with pytest.raises(ImageFileError, match="is not a Roman data-model ASDF file"):
        _ = RomanDatamodelImage(full_filepath=path).width


def test_units_warning_logged_once(files, caplog, monkeypatch):
    from snapscope.image import _roman

    monkeypatch.setattr(_roman, "_units_warned", False)
    with caplog.at_level(logging.WARNING, logger="snapscope"):
        for _ in range(2):
            im = RomanDatamodelImage(full_filepath=files["lz4"])
            _ = im.width
            im.free()
    assert sum("CRDS pixel-area map" in r.getMessage() for r in caplog.records) == 1


# --------------------------------------------------------------------------- properties


def test_properties(image):
    assert (image.width, image.height, image.image_shape) == (NX, NY, (NY, NX))
    assert image.band == "F106"
    assert image.sca == 7
    assert image.observation_id == "r00032010010010010040001"
    assert image.mjd == pytest.approx((START + END) / 2, abs=1e-9)  # mid-exposure, as snappl
    assert image.exptime == 86.4
    assert image.sky_level == 5.0  # meta.statistics.image_median
    assert image._default_db_format == 100
    assert image.__dict__["_data"] is None  # nothing above read pixels


def test_placeholders_are_none(files):
    im = RomanDatamodelImage(full_filepath=files["placeholder"])
    assert (im.observation_id, im.exptime, im.sky_level, im.sca) == (None, None, None, 1)
    assert im.band == "F062"
    with pytest.raises(ValueError, match="no usable meta.photometry"):
        im.get_zeropoint()


def test_zeropoint(image):
    # AB: m = -2.5 log10(f_nu / 3631 Jy), f_nu = counts * conversion [MJy/sr] * 1e6 * area [sr]
    physical = 2.5 * math.log10(3631.0) - 2.5 * math.log10(CONVERSION * 1e6 * PIXEL_AREA)
    assert image.get_zeropoint() == pytest.approx(physical, abs=2e-4)
    assert image.get_zeropoint() == -6.1 - 2.5 * math.log10(CONVERSION * PIXEL_AREA)  # snappl
    assert image.zeropoint == image.get_zeropoint()


# ------------------------------------------------------------------------------ planes


def test_planes_and_dtypes(image, files):
    arrays = files["arrays"]
    flags = image.flags  # flags first works (snappl: TypeError)
    assert image.__dict__["_data"] is None and image.__dict__["_noise"] is None
    assert flags.dtype == np.uint32
    np.testing.assert_array_equal(flags, arrays["dq"])
    assert image.data.dtype == np.float32 and image.noise.dtype == np.float16
    np.testing.assert_array_equal(image.data, arrays["data"])
    np.testing.assert_array_equal(image.noise, arrays["err"])
    assert image.sb_data is image.data and image.sb_noise is image.noise
    assert image.fraction_masked() == pytest.approx(np.count_nonzero(arrays["dq"]) / (NX * NY))


def test_get_data_caching(image):
    data, noise, flags = image.get_data()
    assert image.__dict__["_data"] is None  # no cache unless asked
    cached = image.get_data("data", cache=True)[0]
    assert image.data is cached and image.get_data("data")[0] is cached
    fresh = image.get_data("data", always_reload=True)[0]
    assert fresh is not cached and image.data is cached
    np.testing.assert_array_equal(fresh, data)
    with pytest.raises(ValueError, match="Unknown which 'sky'"):
        image.get_data("sky")


def test_free_and_reload(image, files):
    first = image.data
    image.free()
    assert image.__dict__["_data"] is None and image._dm is None
    np.testing.assert_array_equal(image.data, first)


def test_set_data(image):
    image.data = np.ones((NY, NX), np.float64)
    assert image.data.sum() == NX * NY
    with pytest.raises(TypeError, match="Data must be a 2d numpy array of floats"):
        image.data = np.ones((NY, NX), np.int32)
    with pytest.raises(TypeError, match="Flags must be a 2d numpy array of integers"):
        image.flags = np.ones((NY, NX))


def mmap_backed(array):
    while array is not None:
        if isinstance(array, mmap.mmap):
            return True
        array = getattr(array, "base", None)
    return False


def test_data_view_lazy_and_memory_mapped(files):
    raw = RomanDatamodelImage(full_filepath=files["raw"])
    view = raw.get_data_view("data")
    assert mmap_backed(view) and not view.flags.writeable
    assert raw.__dict__["_data"] is None
    np.testing.assert_array_equal(view[5:8, 10:20], files["arrays"]["data"][5:8, 10:20])
    raw.free()
    compressed = RomanDatamodelImage(full_filepath=files["lz4"])
    np.testing.assert_array_equal(compressed.get_data_view("noise"), files["arrays"]["err"])
    assert compressed.__dict__["_noise"] is None
    compressed.free()


# --------------------------------------------------------------------------------- WCS


def test_wcs_matches_gwcs(image):
    wcs = image.get_wcs()
    assert isinstance(wcs, GWCS) and image.get_wcs("RDM_GWCS") is wcs
    gw = make_gwcs()
    x, y = np.array([0.0, 63.0, 10.5, 31.5]), np.array([0.0, 47.0, 40.25, 23.5])
    ra, dec = wcs.pixel_to_world(x, y)
    ra_ref, dec_ref = gw(x, y, with_bounding_box=False)
    np.testing.assert_allclose(ra, ra_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dec, dec_ref, rtol=0, atol=1e-12)
    xb, yb = wcs.world_to_pixel(ra, dec)
    x_ref, y_ref = gw.invert(ra, dec, with_bounding_box=False)
    np.testing.assert_allclose(xb, x_ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(yb, y_ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(xb, x, atol=1e-6)
    np.testing.assert_allclose(yb, y, atol=1e-6)
    ra1, dec1 = wcs.pixel_to_world(3.0, 4.0)
    assert isinstance(ra1, float) and isinstance(dec1, float)
    with pytest.raises(TypeError, match="WCS of type AstropyWCS"):
        image.get_wcs("AstropyWCS")


def test_sky_positions_from_wcs(image):
    gw = make_gwcs()
    ra, dec = gw(0.0, NY - 1.0, with_bounding_box=False)
    assert (image.ra_corner_01, image.dec_corner_01) == pytest.approx((ra, dec), abs=1e-12)
    ra, dec = gw(NX - 1.0, 0.0, with_bounding_box=False)
    assert (image.ra_corner_10, image.dec_corner_10) == pytest.approx((ra, dec), abs=1e-12)
    assert image.includes_radec(RA0, DEC0)
    assert not image.includes_radec(RA0 + 1.0, DEC0)


@sip_fit_warning
def test_sip_approximation_close_to_gwcs(image):
    apwcs = image.get_wcs().get_astropy_wcs()
    yy, xx = np.mgrid[0:NY:7, 0:NX:7].astype(float)
    ra, dec = apwcs.pixel_to_world_values(xx, yy)
    ra_ref, dec_ref = make_gwcs()(xx, yy, with_bounding_box=False)
    arcsec = 3600 * np.hypot((ra - ra_ref) * math.cos(math.radians(DEC0)), dec - dec_ref)
    assert arcsec.max() < 1e-3


def test_no_wcs(files):
    im = RomanDatamodelImage(full_filepath=files["nowcs"])
    with pytest.raises(NoWCSError, match="has no meta.wcs"):
        im.get_wcs()
    im.free()


# ----------------------------------------------------------------------------- cutouts


@sip_fit_warning
def test_cutout_is_fits_image_with_sip_wcs(image, files):
    cut = image.get_cutout(20, 30, 7, 5)
    assert isinstance(cut, FITSImage) and cut.image_shape == (5, 7)
    np.testing.assert_array_equal(cut.data, files["arrays"]["data"][28:33, 17:24])
    np.testing.assert_array_equal(cut.noise, files["arrays"]["err"][28:33, 17:24])
    np.testing.assert_array_equal(cut.flags, files["arrays"]["dq"][28:33, 17:24])
    assert (cut.band, cut.sca, cut.mjd) == (image.band, image.sca, image.mjd)
    assert cut.get_zeropoint() == image.get_zeropoint()
    # cutout pixel (3, 2) is parent pixel (20, 30)
    ra, dec = cut.get_wcs().pixel_to_world(3.0, 2.0)
    ra_ref, dec_ref = make_gwcs()(20.0, 30.0, with_bounding_box=False)
    assert 3600 * abs(dec - dec_ref) < 1e-3 and 3600 * abs(ra - ra_ref) < 2e-3
    assert cut.get_fits_header()["NAXIS1"] == 7


def test_cutout_as_roman_image_keeps_gwcs(image, files):
    cut = image.get_cutout(20, 30, 7, return_FITS=False)
    assert isinstance(cut, RomanDatamodelImage) and cut.image_shape == (7, 7)
    np.testing.assert_array_equal(cut.flags, files["arrays"]["dq"][27:34, 17:24])
    assert cut.get_wcs().pixel_to_world(3.0, 3.0) == pytest.approx(
        image.get_wcs().pixel_to_world(20.0, 30.0), abs=1e-12
    )
    assert cut.band == "F106"


@sip_fit_warning
def test_cutout_modes(image):
    with pytest.raises(PartialOverlapError):
        image.get_cutout(1, 10, 5)
    with pytest.raises(NoOverlapError):
        image.get_cutout(200, 10, 5, mode="partial")
    cut = image.get_cutout(1, 10, 5, mode="partial")
    assert np.isnan(cut.data[:, 0]).all() and np.isfinite(cut.data[:, 1:]).all()
    assert (cut.flags[:, 0] == 1).all()


@sip_fit_warning
def test_ra_dec_cutout_centred_on_nearest_pixel(image, files):
    ra, dec = make_gwcs()(40.3, 20.6, with_bounding_box=False)
    cut = image.get_ra_dec_cutout(ra, dec, 5)
    np.testing.assert_array_equal(cut.data, files["arrays"]["data"][19:24, 38:43])


@sip_fit_warning
def test_cutout_follows_new_data(image):
    image.get_cutout(20, 30, 3)
    image.data = np.zeros((NY, NX), np.float32)
    assert (image.get_cutout(20, 30, 3).data == 0).all()
    image.free()
    assert (image.get_cutout(20, 30, 3).data != 0).all()


def test_registered_in_snapscope_image(files):
    import snapscope.image

    assert snapscope.image.RomanDatamodelImage is RomanDatamodelImage
    row = {"format": 100, "filepath": str(files["lz4"]), "band": "F106", "sca": 7}
    im = snapscope.image.image_from_db_row(row)
    assert type(im) is RomanDatamodelImage and im.width == NX
    im.free()
