"""The fast OU2024 header path gives the same rows as the Image API (the reference)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from fitsmaker import make_ou2024_file

from snapscope.db._headers import TanSipWCS, ou2024_row, read_header
from snapscope.image import OpenUniverse2024FITSImage

CASES = [  # sip, gz, ra, dec, rotation
    (True, True, 359.995, -30.0, 15.0),
    (False, False, 10.0, 89.9, 200.0),
    (True, False, 0.0, -89.95, 77.0),
    (False, True, 180.0, 0.0, -33.0),
    (True, True, 53.1, -27.8, 123.4),
]


@pytest.mark.parametrize("sip,gz,ra,dec,rot", CASES)
def test_fast_row_equals_image_api_row(tmp_path, sip, gz, ra, dec, rot):
    path, truth = make_ou2024_file(
        tmp_path, shape=(64, 48), pointing=7, sca=4, sip=sip, gz=gz, ra=ra, dec=dec, rot_deg=rot
    )
    fast = ou2024_row(path, OpenUniverse2024FITSImage(full_filepath=path))
    slow = OpenUniverse2024FITSImage(full_filepath=path).db_row()
    assert fast is not None and fast.keys() == slow.keys()
    for key, want in slow.items():
        if key == "position_angle":  # finite differences of one-pixel steps: ~1e-5 deg noise
            assert fast[key] == pytest.approx(want, abs=1e-4)
        elif isinstance(want, float):
            assert fast[key] == pytest.approx(want, abs=1e-9), key
        else:
            assert fast[key] == want, key
    xs, ys = np.array([0.0, 47.0, 13.3]), np.array([0.0, 63.0, 40.7])
    ras, decs = TanSipWCS(read_header(path, 1)).pixel_to_world(xs, ys)
    tra, tdec = truth["wcs"].pixel_to_world_values(xs, ys)
    assert np.allclose(ras, np.mod(tra, 360), atol=1e-10) and np.allclose(decs, tdec, atol=1e-10)


def test_unusual_headers_fall_back(tmp_path):
    path, _ = make_ou2024_file(tmp_path, shape=(16, 16))
    with fits.open(path, mode="update") as hdul:
        hdul[1].header["PV1_1"] = 1.0
    assert ou2024_row(path, OpenUniverse2024FITSImage(full_filepath=path)) is None
    bad = tmp_path / "Roman_TDS_simple_model_Y106_1_1.fits"
    bad.write_bytes(b"garbage" * 1000)
    assert ou2024_row(bad, OpenUniverse2024FITSImage(full_filepath=bad)) is None


def test_header_values_are_parsed_like_fits(tmp_path):
    hdr = fits.Header()
    hdr["S"] = "it''s ok  "
    hdr["S2"] = ("with / slash", "comment")
    hdr["B"] = True
    hdr["I"] = -42
    hdr["F"] = 1.5e-7
    hdr["E"] = "x"
    fits.PrimaryHDU(np.zeros((2, 2), "f4"), hdr).writeto(tmp_path / "h.fits")
    got = read_header(tmp_path / "h.fits", 0)
    assert got["S"] == hdr["S"].rstrip() and got["S2"] == "with / slash"
    assert (got["B"], got["I"], got["F"], got["NAXIS1"]) == (True, -42, 1.5e-7, 2)
