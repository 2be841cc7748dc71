"""Saving: which planes, layouts, headers, overwrite and atomicity."""

import numpy as np
import pytest
from astropy.io import fits
from fitsmaker import make_ou2024_file, make_wcs

from snapscope.image import FITSImage, FITSImageStdHeaders, OpenUniverse2024FITSImage


def _std_image(tmp_path, **kw):
    rng = np.random.default_rng(2)
    return FITSImageStdHeaders(full_filepath=tmp_path / "s", std_imagenames=True,
                               data=rng.random((16, 12)).astype("f4"),
                               noise=rng.random((16, 12)).astype("f4"),
                               flags=rng.integers(0, 5, (16, 12)).astype("i2"),
                               wcs=make_wcs((16, 12)), band="Y106", mjd=60000.5, **kw)


def test_std_imagenames_round_trip(tmp_path):
    im = _std_image(tmp_path)
    written = im.save()
    assert sorted(p.name for p in written) == ["s_flags.fits", "s_image.fits", "s_noise.fits"]
    back = FITSImageStdHeaders(full_filepath=tmp_path / "s", std_imagenames=True)
    for plane in ("data", "noise", "flags"):
        np.testing.assert_array_equal(getattr(back, plane), getattr(im, plane))
    assert back.band == "Y106" and back.mjd == 60000.5
    ra, dec = back.get_wcs().pixel_to_world(3, 4)
    assert (ra, dec) == pytest.approx(im.get_wcs().pixel_to_world(3, 4), abs=1e-12)
    noise_header = fits.getheader(tmp_path / "s_noise.fits")
    assert "BAND" not in noise_header and "CRVAL1" in noise_header  # only WCS, not the image header
    with pytest.raises(FileExistsError, match="overwrite is False"):
        im.save()
    im.save(overwrite=True)


def test_save_honours_which(tmp_path):  # snappl writes the image file for any which
    im = _std_image(tmp_path)
    assert [p.name for p in im.save(which="noise")] == ["s_noise.fits"]
    assert not (tmp_path / "s_image.fits").exists() and not (tmp_path / "s_flags.fits").exists()


def test_multi_extension_round_trip_and_single_plane_update(tmp_path):
    path, truth = make_ou2024_file(tmp_path, shape=(20, 30), sip=True, dq_bits={(1, 2): 4})
    im = OpenUniverse2024FITSImage(full_filepath=path)
    out = tmp_path / "copy" / path.name
    out.parent.mkdir()
    im.save(imagepath=out, noisepath=out, flagspath=out)
    back = OpenUniverse2024FITSImage(full_filepath=out)
    np.testing.assert_array_equal(back.data, truth["sci"])
    np.testing.assert_array_equal(back.flags, truth["dq"])
    assert back.band == "Y106" and back.sca == 3 and back.get_zeropoint() == im.get_zeropoint()
    assert [h.name for h in fits.open(out)] == ["PRIMARY", "SCI", "ERR", "DQ"]
    ra, dec = back.get_wcs().pixel_to_world(29.0, 0.0)
    expected = tuple(float(v) for v in truth["wcs"].all_pix2world(29, 0, 0))
    assert (ra, dec) == pytest.approx(expected, abs=1e-10)
    back.noise = back.noise * 2
    back.save(which="noise", overwrite=True)
    again = OpenUniverse2024FITSImage(full_filepath=out)
    np.testing.assert_array_equal(again.noise, truth["err"] * 2)
    np.testing.assert_array_equal(again.data, truth["sci"])


def test_failed_save_leaves_old_file(tmp_path, monkeypatch):
    im = _std_image(tmp_path)
    im.save()
    before = (tmp_path / "s_image.fits").read_bytes()
    im.data = im.data + 1
    import astropy.io.fits as fits_mod

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(fits_mod.HDUList, "writeto", boom)
    with pytest.raises(OSError, match="disk full"):
        im.save(overwrite=True)
    assert (tmp_path / "s_image.fits").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_plane_without_a_place_is_an_error(tmp_path):
    im = FITSImage(full_filepath=tmp_path / "one.fits", data=np.ones((3, 3), "f4"),
                   noise=np.ones((3, 3), "f4"))
    with pytest.raises(ValueError, match="data and noise would both go to HDU 0"):
        im.save()
    im.save(which="data")
    assert fits.getdata(tmp_path / "one.fits").shape == (3, 3)
    with pytest.raises(ValueError, match="must end in .fits"):
        im.save(imagepath=tmp_path / "x.txt", which="data")
