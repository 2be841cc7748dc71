"""Header values, paths and constructor rules of the Image classes."""

import uuid
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from fitsmaker import make_ou2024_file

from snapscope.image import (
    FITSImage,
    FITSImageStdHeaders,
    Image,
    Numpy2DImage,
    OpenUniverse2024FITSImage,
    image_class_for_format,
    image_from_db_row,
)
from snapscope.roman import BANDPASS_ZEROPOINT


@pytest.fixture
def ou_file(tmp_path):
    return make_ou2024_file(tmp_path, shape=(40, 30), mjd=62480.25, sca=7, pointing=4567)


def test_ou2024_file_names_are_made_and_read_by_one_class():
    name = OpenUniverse2024FITSImage.filename_for("H158", 41, 7)
    assert name == "Roman_TDS_simple_model_H158_41_7.fits.gz"
    assert OpenUniverse2024FITSImage.parse_filename(name) == {"band": "H158", "pointing": "41",
                                                              "sca": "7"}
    plain = OpenUniverse2024FITSImage.filename_for("Y106", 1, 18, gzip=False)
    assert OpenUniverse2024FITSImage.parse_filename(plain)["sca"] == "18"
    assert OpenUniverse2024FITSImage.parse_filename("my_own_name.fits") is None


def test_observation_id_of_a_file_not_named_as_ou2024(ou_file, tmp_path):
    """snappl 0.48 raises ValueError; snapscope falls back to the POINTING card, else None."""
    from astropy.io import fits

    path, _ = ou_file
    renamed = path.rename(tmp_path / "my_own_name.fits")
    assert OpenUniverse2024FITSImage(full_filepath=renamed).observation_id is None
    with fits.open(renamed, mode="update") as hdul:
        hdul[1].header["POINTING"] = 991  # the SCI header, where OU2024 keeps its cards
    assert OpenUniverse2024FITSImage(full_filepath=renamed).observation_id == "991"


def test_ou2024_header_values(ou_file):
    path, truth = ou_file
    im = OpenUniverse2024FITSImage(full_filepath=path)
    assert im.observation_id == "4567"
    assert im.sca == 7 and isinstance(im.sca, int)
    assert im.band == "Y106"
    assert im.mjd == 62480.25
    assert im.exptime == 302.275
    assert im.sky_level == 100.0
    assert (im.ra, im.dec) == (7.55, -44.8)
    assert im.image_shape == (40, 30) and (im.width, im.height) == (30, 40)
    assert im.get_zeropoint() == pytest.approx(BANDPASS_ZEROPOINT["Y106"] + 17.6)
    assert im.zeropoint == im.get_zeropoint()
    assert im.__dict__.get("_data") is None, "header values must not load pixels"


def test_corners_are_pixel_centres_from_the_wcs(ou_file):
    path, truth = ou_file
    im = OpenUniverse2024FITSImage(full_filepath=path)
    w = truth["wcs"]
    for corner, (x, y) in {"00": (0, 0), "01": (0, 39), "10": (29, 0), "11": (29, 39)}.items():
        ra, dec = w.all_pix2world(x, y, 0)
        assert getattr(im, f"ra_corner_{corner}") == pytest.approx(float(ra), abs=1e-10)
        assert getattr(im, f"dec_corner_{corner}") == pytest.approx(float(dec), abs=1e-10)


def test_coord_center_uses_integer_centre_as_snappl(ou_file):
    path, truth = ou_file
    im = OpenUniverse2024FITSImage(full_filepath=path)
    ra, dec = truth["wcs"].all_pix2world(30 // 2, 40 // 2, 0)
    assert im.coord_center == pytest.approx((float(ra), float(dec)), abs=1e-10)


def test_bandpass_zeropoints_match_galsim():
    galsim_roman = pytest.importorskip("galsim.roman")
    bp = galsim_roman.getBandpasses()
    for band, zp in BANDPASS_ZEROPOINT.items():
        assert bp[band].zeropoint == pytest.approx(zp, abs=1e-6)


def test_constructor_converts_and_rejects():
    im = Image(sca="3", mjd="60000.5", band="R062")
    assert im.sca == 3 and im.mjd == 60000.5
    with pytest.raises(ValueError, match="ra must be float"):
        Image(ra="abc")
    with pytest.raises(TypeError, match="didn't recognize keyword arguments.*'cheese'"):
        Image(cheese=1)
    with pytest.raises(ValueError, match="unknown image format 77"):
        Image(format=77)


def test_setting_converts_unlike_snappl():
    im = Image()
    im.mjd = "60000"
    assert im.mjd == 60000.0
    with pytest.raises(ValueError, match="sca must be int"):
        im.sca = 2.5


def test_unknown_header_values_are_none(tmp_path):
    data = np.zeros((5, 6), "f4")
    path = tmp_path / "plain.fits"
    fits.PrimaryHDU(data).writeto(path)
    im = FITSImage(full_filepath=path)
    assert im.band is None and im.mjd is None and im.sca is None
    assert im.position_angle is None  # no WCS: None, not a sentinel object
    assert im.ra_corner_00 is None


def test_ids_are_uuids():
    u = uuid.uuid4()
    im = Image(id=str(u), provenance_id=u)
    assert im.id == u and im.provenance_id == u
    with pytest.raises(TypeError):
        Image(id=5)


def test_numpy_image_shape_works():  # snappl: RecursionError
    im = Numpy2DImage(data=np.zeros((3, 5), "f4"))
    assert im.image_shape == (3, 5)
    assert im.filepath is None and im.full_filepath is None


def test_numpy_image_rejects_bad_planes():
    with pytest.raises(TypeError, match="Data must be a 2d numpy array of floats"):
        Numpy2DImage(data=np.zeros((3, 5), int))
    with pytest.raises(TypeError, match="Flags must be a 2d numpy array of integers"):
        Numpy2DImage(data=np.zeros((3, 5)), flags=np.zeros((3, 5)))
    im = Numpy2DImage(data=np.zeros((3, 5)))
    with pytest.raises(TypeError, match="Noise must be"):
        im.noise = "cheese"
    with pytest.raises(ValueError, match="same shape"):
        Numpy2DImage(data=np.zeros((3, 5)), noise=np.zeros((5, 3)))


def test_paths_with_and_without_base(tmp_path, ou_file):
    path, _ = ou_file
    im = FITSImage(full_filepath=path)
    assert im.filepath == path.resolve() and im.full_filepath == path.resolve()
    assert im.name == im.filename == path.name
    based = FITSImage(filepath=path.name, base_path=tmp_path)
    assert based.filepath == Path(path.name)
    assert based.full_filepath == path.resolve() == based.path
    assert based.base_dir == tmp_path.resolve()
    with pytest.raises(ValueError, match="cannot be made relative"):
        FITSImage(full_filepath="/elsewhere/x.fits", base_path=tmp_path)
    with pytest.raises(ValueError, match="Do not use path"):
        FITSImage(full_filepath=path, path=path)
    with pytest.raises(ValueError, match="no_base_path"):
        FITSImage(full_filepath=path, base_path=tmp_path, no_base_path=True)


def test_config_base_path_is_used_and_outside_files_still_open(tmp_path, monkeypatch, ou_file):
    path, _ = ou_file
    monkeypatch.setenv("SNAPSCOPE_OU24_IMAGES", str(tmp_path))
    im = OpenUniverse2024FITSImage(filepath=path.name)
    assert im.full_filepath == path.resolve() and im.base_path == tmp_path.resolve()
    elsewhere = OpenUniverse2024FITSImage(full_filepath="/tmp/x/Roman_TDS_simple_model_Y106_1_1.fits")
    assert elsewhere.base_path is None


def test_std_headers_create_from_data():
    im = FITSImageStdHeaders(data=np.ones((4, 4), "f4"), observation_id="foo", sca=0, ra=42,
                             dec=-13, band="R", mjd=64738, position_angle=32, exptime=10,
                             sky_level=12, zeropoint=25)
    h = im.get_fits_header()
    expect = {"POINTING": "foo", "SCA": 0, "RA": 42, "DEC": -13, "BAND": "R", "MJD": 64738,
              "POSANG": 32, "EXPTIME": 10, "SKYLEVEL": 12, "ZPT": 25}
    assert {k: h[k] for k in expect} == expect
    custom = dict(zip(["observation_id", "sca", "ra", "dec", "band", "mjd", "position_angle",
                       "exptime", "sky_level", "zeropoint"], "ABCDEFGHIJ", strict=True))
    im2 = FITSImageStdHeaders(data=np.ones((4, 4), "f4"), header_kws=custom, band="Q", zeropoint=3)
    assert im2.get_fits_header()["E"] == "Q" and im2.get_fits_header()["J"] == 3


def test_std_headers_setting_writes_keywords_and_posang_first(tmp_path):
    im = FITSImageStdHeaders(data=np.ones((4, 4), "f4"))
    h = im.get_fits_header()
    assert "BAND" not in h and im.band is None
    im.band = "Y106"
    im.mjd = 60001
    assert h["BAND"] == "Y106" and h["MJD"] == 60001.0
    path = tmp_path / "p.fits"
    hdr = fits.Header({"POSANG": 12.5, "ZPT": 26.0})
    fits.PrimaryHDU(np.zeros((3, 3), "f4"), header=hdr).writeto(path)
    first = FITSImageStdHeaders(full_filepath=path)
    assert first.position_angle == 12.5  # snappl: KeyError 'positon_angle'
    assert first.get_zeropoint() == 26.0
    with pytest.raises(RuntimeError, match="no zeropoint"):
        FITSImageStdHeaders(data=np.ones((2, 2), "f4")).get_zeropoint()


def test_db_row_and_back(ou_file):
    path, _ = ou_file
    im = OpenUniverse2024FITSImage(full_filepath=path, provenance_id=uuid.uuid4(), id=uuid.uuid4())
    row = im.db_row()
    assert row["format"] == 2 and row["band"] == "Y106" and row["width"] == 30
    assert row["ra_corner_11"] == im.ra_corner_11
    back = image_from_db_row({**row, "extension": None, "properties": {}})
    assert type(back) is OpenUniverse2024FITSImage
    assert back.full_filepath == path.resolve() and back.id == im.id and back.mjd == im.mjd
    assert image_class_for_format(11) is FITSImageStdHeaders
    with pytest.raises(ValueError, match="unknown image format"):
        image_class_for_format(55)
