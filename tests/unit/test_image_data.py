"""Pixel planes: lazy loading, caching semantics (as snappl's tests), gzip, errors."""

import mmap

import numpy as np
import pytest
from astropy.io import fits
from fitsmaker import make_ou2024_file

import snapscope.image._fitsfile as fitsfile
from snapscope.exceptions import HDUError, ImageFileError, ImageFileNotFoundError, NoWCSError
from snapscope.image import FITSImage, OpenUniverse2024FITSImage


@pytest.fixture(params=[False, True], ids=["plain", "gzip"])
def ou(request, tmp_path):
    path, truth = make_ou2024_file(tmp_path, shape=(50, 40), gz=request.param,
                                   dq_bits={(3, 4): 2, (10, 11): 1024})
    return OpenUniverse2024FITSImage(full_filepath=path), truth


def test_planes_match_file_and_are_native(ou):
    im, truth = ou
    data, noise, flags = im.get_data()
    np.testing.assert_array_equal(data, truth["sci"])
    np.testing.assert_array_equal(noise, truth["err"])
    np.testing.assert_array_equal(flags, truth["dq"])
    assert [a.dtype.str for a in (data, noise, flags)] == ["<f4", "<f4", "<u4"]


def test_property_loads_only_its_plane(ou):
    im, truth = ou
    assert im.noise is not None
    assert im._noise is not None and im._data is None and im._flags is None
    im.free()
    assert im._noise is None


def test_get_data_caching_semantics(ou):
    im, _ = ou
    a = im.get_data("data")[0]
    assert im._data is None, "get_data without cache keeps nothing"
    b = im.get_data("data", cache=True)[0]
    assert im._data is b and b is not a
    assert im.get_data("data")[0] is b, "cached arrays are returned"
    c = im.get_data("data", always_reload=True)[0]
    assert c is not b and im._data is b, "always_reload does not replace the cache"
    d = im.get_data("data", always_reload=True, cache=True)[0]
    assert im._data is d and im.data is d


def test_view_is_a_memory_map_for_plain_files(tmp_path):
    path, truth = make_ou2024_file(tmp_path, shape=(30, 20))
    im = OpenUniverse2024FITSImage(full_filepath=path)
    view = im.get_data_view("data")
    base, mapped = view, False
    while base is not None and not mapped:
        mapped = isinstance(base, np.memmap | mmap.mmap)
        base = getattr(base, "base", None) if not isinstance(base, mmap.mmap) else None
    assert mapped, "the plane must be a memory map, not a copy"
    assert not view.flags.writeable
    np.testing.assert_array_equal(view, truth["sci"])


def test_gzip_is_decompressed_once_per_process(tmp_path, monkeypatch):
    path, truth = make_ou2024_file(tmp_path, shape=(30, 20), gz=True)
    calls = []
    real = fitsfile.shutil.copyfileobj
    monkeypatch.setattr(fitsfile.shutil, "copyfileobj", lambda *a, **k: calls.append(a) or real(*a, **k))
    for _ in range(3):
        im = OpenUniverse2024FITSImage(full_filepath=path)
        np.testing.assert_array_equal(im.get_cutout(5, 5, 3).data, truth["sci"][4:7, 4:7])
        im.free()
    assert len(calls) == 1


def test_header_and_shape_do_not_read_pixels(tmp_path, monkeypatch):
    path, _ = make_ou2024_file(tmp_path, shape=(30, 20), gz=True)
    monkeypatch.setattr(fitsfile, "decompressed_copy", lambda p: pytest.fail("pixels were read"))
    im = OpenUniverse2024FITSImage(full_filepath=path)
    assert im.image_shape == (30, 20) and im.band == "Y106"


def test_three_file_std_imagenames(tmp_path):
    base = tmp_path / "img"
    rng = np.random.default_rng(3)
    planes = {"image": rng.random((8, 9)).astype("f4"), "noise": rng.random((8, 9)).astype("f4"),
              "flags": rng.integers(0, 3, (8, 9)).astype("i2")}
    for name, arr in planes.items():
        fits.PrimaryHDU(arr).writeto(f"{base}_{name}.fits")
    im = FITSImage(full_filepath=base, std_imagenames=True)
    np.testing.assert_array_equal(im.data, planes["image"])
    np.testing.assert_array_equal(im.noise, planes["noise"])
    np.testing.assert_array_equal(im.flags, planes["flags"])
    assert im.noisepath.name == "img_noise.fits"
    with pytest.raises(ValueError, match="std_imagenames"):
        FITSImage(full_filepath=base, std_imagenames=True, imagehdu=1)


def test_single_hdu_file_has_no_noise_or_flags(tmp_path):
    path = tmp_path / "d.fits"
    fits.PrimaryHDU(np.ones((4, 5), "f8")).writeto(path)
    im = FITSImage(full_filepath=path)
    assert im.noise is None and im.flags is None and im.noisepath is None
    assert im.fraction_masked() == 0.0


def test_fraction_masked(tmp_path):
    path, truth = make_ou2024_file(tmp_path, shape=(50, 40), dq_bits={(1, 1): 1, (2, 2): 4096, (3, 3): 2})
    im = OpenUniverse2024FITSImage(full_filepath=path)
    assert im.fraction_masked() == pytest.approx(3 / 2000)
    from snapscope.image import Numpy2DImage

    d = np.ones((4, 5))
    d[0, :2] = np.nan
    assert Numpy2DImage(data=d).fraction_masked() == pytest.approx(0.1)
    assert Numpy2DImage(data=d, flags=np.ones((4, 5), "u1")).fraction_masked() == 1.0


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(ImageFileNotFoundError, match="not found.*nope.fits"):
        _ = FITSImage(full_filepath=tmp_path / "nope.fits").image_shape
    with pytest.raises(FileNotFoundError):
        _ = FITSImage(full_filepath=tmp_path / "nope.fits").data
    junk = tmp_path / "junk.fits"
    junk.write_text("this is not FITS at all" * 100)
    with pytest.raises(ImageFileError, match="not a readable FITS file"):
        _ = FITSImage(full_filepath=junk).image_shape
    path, _ = make_ou2024_file(tmp_path, shape=(10, 10))
    with pytest.raises(HDUError, match="has no HDU 7; it has 0:PRIMARY, 1:SCI, 2:ERR, 3:DQ"):
        _ = OpenUniverse2024FITSImage(full_filepath=path, imagehdu=7).image_shape
    with pytest.raises(HDUError, match="no 2-D image"):
        _ = FITSImage(full_filepath=path, imagehdu=0).image_shape
    with pytest.raises(ValueError, match="Unknown which 'cheese'"):
        OpenUniverse2024FITSImage(full_filepath=path).get_data("cheese")
    plain = tmp_path / "nowcs.fits"
    fits.PrimaryHDU(np.zeros((3, 3), "f4")).writeto(plain)
    with pytest.raises(NoWCSError, match="no celestial WCS"):
        FITSImage(full_filepath=plain).get_wcs()
