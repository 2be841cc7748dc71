"""The process-wide cache of open FITS files: shared parsing, invalidation, bounds, threads."""

import os
import threading

import numpy as np
import pytest
from astropy.io import fits
from astropy.nddata import Cutout2D
from fitsmaker import make_ou2024_file

import snapscope.image._fitscache as fitscache
from snapscope.exceptions import ImageFileError
from snapscope.image import OpenUniverse2024FITSImage, ScaledPlane, set_open_file_limit
from snapscope.wcs import AstropyWCS


@pytest.fixture(autouse=True)
def _empty_cache():
    limit = fitscache.open_file_limit()
    fitscache.clear_open_files()
    yield
    set_open_file_limit(limit)
    fitscache.clear_open_files()


@pytest.fixture
def layouts_read(monkeypatch):
    """Count the files whose headers are walked (one walk = one file opened by the cache)."""
    calls = []
    real = fitscache.read_layout

    def counting(f, path):
        calls.append(path)
        return real(f, path)

    monkeypatch.setattr(fitscache, "read_layout", counting)
    return calls


def test_new_images_of_a_file_parse_it_once(tmp_path, layouts_read):
    path, truth = make_ou2024_file(tmp_path, shape=(30, 20), sip=True)
    images = [OpenUniverse2024FITSImage(full_filepath=path) for _ in range(4)]
    for im in images:
        assert im.band == "Y106"
        np.testing.assert_array_equal(im.get_data_view("data"), truth["sci"])
    assert len(layouts_read) == 1
    a, b = images[0], images[1]
    assert a.get_wcs() is not b.get_wcs()
    assert a.get_wcs().get_astropy_wcs() is not b.get_wcs().get_astropy_wcs()
    assert a.get_wcs().world_to_pixel(7.551, -44.801) == b.get_wcs().world_to_pixel(7.551, -44.801)
    a.get_fits_header()["FILTER"] = "H158"
    assert b.get_fits_header()["FILTER"] == "Y106", "every image has its own header"


def test_the_shared_wcs_is_the_headers_wcs(tmp_path):
    path, truth = make_ou2024_file(tmp_path, shape=(30, 20), sip=True)
    im = OpenUniverse2024FITSImage(full_filepath=path)
    im.get_wcs()
    x, y = np.meshgrid(np.arange(-3.0, 25.0, 1.7), np.arange(-3.0, 33.0, 2.3))
    again = OpenUniverse2024FITSImage(full_filepath=path).get_wcs().pixel_to_world(x, y)
    direct = AstropyWCS.from_header(fits.getheader(path, 1)).pixel_to_world(x, y)
    np.testing.assert_array_equal(again, direct)
    given = fits.getheader(path, 1)
    given["CRVAL1"] += 0.01
    im.set_fits_header(given)
    im._wcs = None
    assert im.get_wcs().pixel_to_world(5, 5)[0] != again[0][0, 0], "a header given is used"


def test_a_file_saved_again_is_read_again(tmp_path):
    path, truth = make_ou2024_file(tmp_path, shape=(30, 20))
    old = OpenUniverse2024FITSImage(full_filepath=path)
    old_view = old.get_data_view("data")
    changed = OpenUniverse2024FITSImage(full_filepath=path)
    changed.data = changed.data + 1
    changed.get_fits_header()["FILTER"] = "J129"
    changed.save(overwrite=True)  # a new file renamed into place
    np.testing.assert_array_equal(changed.get_data_view("noise"), truth["err"])

    new = OpenUniverse2024FITSImage(full_filepath=path)
    assert new.band == "J129"
    np.testing.assert_array_equal(new.get_data_view("data"), truth["sci"] + 1)
    np.testing.assert_array_equal(old_view, truth["sci"]), "arrays handed out stay valid"
    with pytest.raises(ImageFileError, match="changed on disk.*free()"):
        old.get_data_view("data")
    old.free()
    np.testing.assert_array_equal(old.get_data_view("data"), truth["sci"] + 1)


def test_a_file_rewritten_in_place_is_read_again(tmp_path):
    path, truth = make_ou2024_file(tmp_path, shape=(30, 20))
    assert OpenUniverse2024FITSImage(full_filepath=path).band == "Y106"
    inode = os.stat(path).st_ino
    with fits.open(path) as hdul:
        hdus = fits.HDUList([h.copy() for h in hdul])
    hdus[1].header["FILTER"] = "H158"
    hdus[1].data = hdus[1].data[:20]
    with open(path, "wb") as f:  # same inode, new size and mtime
        hdus.writeto(f)
    assert os.stat(path).st_ino == inode
    new = OpenUniverse2024FITSImage(full_filepath=path)
    assert new.band == "H158" and new.image_shape == (20, 20)
    np.testing.assert_array_equal(new.get_data_view("data"), truth["sci"][:20])


def test_a_replaced_gzip_file_is_not_mixed_with_its_old_header(tmp_path):
    path, truth = make_ou2024_file(tmp_path, shape=(30, 20), gz=True)
    im = OpenUniverse2024FITSImage(full_filepath=path)
    assert im.band == "Y106"  # header read without decompressing
    other = tmp_path / "other"
    other.mkdir()
    replacement, truth2 = make_ou2024_file(other, shape=(30, 20), gz=True, band="H158", seed=5)
    os.replace(replacement, path)
    with pytest.raises(ImageFileError, match="changed on disk"):
        im.get_data_view("data")
    im.free()
    np.testing.assert_array_equal(im.get_data_view("data"), truth2["sci"])


def test_open_files_are_bounded(tmp_path, layouts_read):
    set_open_file_limit(3)
    fds = len(os.listdir("/proc/self/fd"))
    images, truths = [], []
    for k in range(8):
        d = tmp_path / str(k)
        d.mkdir()
        path, truth = make_ou2024_file(d, shape=(12, 10), seed=k)
        images.append(OpenUniverse2024FITSImage(full_filepath=path))
        truths.append(truth)
        images[-1].get_wcs()
        for which in ("data", "noise", "flags"):
            images[-1].get_data_view(which)
    assert fitscache.open_file_count() == 3
    assert len(os.listdir("/proc/self/fd")) <= fds + 3, "one descriptor per cached file"
    assert len(layouts_read) == 8
    for im in images[-3:]:
        im.get_data_view("data")
    assert len(layouts_read) == 8, "the most recent files are still open"
    for im, truth in zip(images, truths, strict=True):
        np.testing.assert_array_equal(im.get_data_view("flags"), truth["dq"])
    assert len(layouts_read) == 8 + 8, "the other files were closed and are opened again"
    with pytest.raises(ValueError, match="positive integer"):
        set_open_file_limit(0)


def test_threads_open_each_file_once_and_agree(tmp_path, layouts_read):
    files = []
    for k in range(3):
        (tmp_path / str(k)).mkdir()
        files.append(make_ou2024_file(tmp_path / str(k), shape=(40, 30), sip=True, seed=k))
    n_threads, results, errors = 8, {}, []
    barrier = threading.Barrier(n_threads)

    def work(t):
        try:
            barrier.wait()
            for k in [(t + i) % 3 for i in range(6)]:
                im = OpenUniverse2024FITSImage(full_filepath=files[k][0])
                cut = im.get_ra_dec_cutout(7.55, -44.8, 5)
                results.setdefault(k, []).append((cut.data.copy(), cut.flags.copy(),
                                                  im.get_wcs().world_to_pixel(7.5505, -44.8003)))
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert sorted(map(str, layouts_read)) == sorted(str(f[0]) for f in files)
    fitscache.clear_open_files()
    for k, (path, truth) in enumerate(files):
        serial = OpenUniverse2024FITSImage(full_filepath=path)
        cut = serial.get_ra_dec_cutout(7.55, -44.8, 5)
        x0, y0 = cut._cutout_origin
        np.testing.assert_array_equal(cut.data, truth["sci"][y0:y0 + 5, x0:x0 + 5])
        xy = serial.get_wcs().world_to_pixel(7.5505, -44.8003)
        assert len(results[k]) == 16
        for data, flags, thread_xy in results[k]:
            np.testing.assert_array_equal(data, cut.data)
            np.testing.assert_array_equal(flags, cut.flags)
            assert thread_xy == xy


def test_free_lets_go_of_the_file(tmp_path):
    path, truth = make_ou2024_file(tmp_path, shape=(30, 20))
    im = OpenUniverse2024FITSImage(full_filepath=path)
    view = im.get_data_view("data")
    assert im.data is not None
    im.free()
    assert im._data is None and all(f._version is None for f in im._files.values())
    np.testing.assert_array_equal(view, truth["sci"])
    assert im.get_wcs() is not None and im.band == "Y106", "header and WCS are kept"


def _write_scaled(path, stored, **cards):
    """A one-HDU FITS file holding ``stored`` as is, with the given scaling cards."""
    bitpix = {1: 8, 2: 16, 4: 32, 8: 64}[stored.itemsize] * (-1 if stored.dtype.kind == "f" else 1)
    header = fits.Header([("SIMPLE", True), ("BITPIX", bitpix), ("NAXIS", 2),
                          ("NAXIS1", stored.shape[1]), ("NAXIS2", stored.shape[0]), *cards.items()])
    body = np.ascontiguousarray(stored, stored.dtype.newbyteorder(">")).tobytes()
    body += b"\0" * (-len(body) % 2880)
    path.write_bytes(header.tostring().encode() + body)


SCALINGS = {
    "uint16": (np.int16, {"BZERO": 32768}),
    "uint32": (np.int32, {"BZERO": 2147483648}),
    "uint64": (np.int64, {"BZERO": 9223372036854775808}),
    "int8": (np.uint8, {"BZERO": -128}),
    "int16-scaled": (np.int16, {"BSCALE": 0.5, "BZERO": 10.0}),
    "int32-blank": (np.int32, {"BSCALE": 2.0, "BLANK": -99}),
    "uint8-blank": (np.uint8, {"BLANK": 7}),
    "float32-scaled": (np.float32, {"BSCALE": 3.0, "BZERO": -1.5}),
}


@pytest.mark.parametrize("case", SCALINGS)
def test_scaled_planes_equal_astropy_slice_by_slice(tmp_path, case):
    from snapscope.image import FITSImage

    dtype, cards = SCALINGS[case]
    rng = np.random.default_rng(4)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    stored = (rng.integers(info.min, info.max, (9, 7), dtype=dtype, endpoint=True) if info
              else rng.normal(0, 100, (9, 7)).astype(dtype))
    if "BLANK" in cards:
        stored[2, 3] = cards["BLANK"]
    path = tmp_path / "scaled.fits"
    _write_scaled(path, stored, **cards)
    with fits.open(path) as hdul:
        expected = hdul[0].data.copy()
    view = FITSImage(full_filepath=path).get_data_view("data")
    assert isinstance(view, ScaledPlane) and view.shape == expected.shape
    assert view.dtype == expected.dtype
    for key in (np.s_[2:5, 1:4], np.s_[::2, ::3], np.s_[np.array([0, 2, 8])], np.s_[...]):
        got = view[key]
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected[key])
    np.testing.assert_array_equal(view[3, 4], expected[3, 4])
    np.testing.assert_array_equal(np.asarray(view), expected)
    np.testing.assert_array_equal(view != 0, expected != 0)
    np.testing.assert_array_equal(FITSImage(full_filepath=path).data, expected)


def test_uint32_flags_are_mapped_not_read(tmp_path):
    path, truth = make_ou2024_file(tmp_path, shape=(50, 40), dq_bits={(3, 4): 2, (10, 11): 1 << 31})
    im = OpenUniverse2024FITSImage(full_filepath=path)
    flags = im.get_data_view("flags")
    assert isinstance(flags, ScaledPlane) and flags.dtype == np.uint32
    assert isinstance(flags.raw.base, fitscache.mmap.mmap), "the stored integers are a memory map"
    np.testing.assert_array_equal(flags[8:13, 9:14], truth["dq"][8:13, 9:14])
    cut = im.get_cutout(11, 10, 5, mode="partial")
    with fits.open(path) as hdul:
        ref = Cutout2D(hdul["DQ"].data, (11, 10), 5, mode="partial", fill_value=1)
    np.testing.assert_array_equal(cut.flags, ref.data)
    assert im.fraction_masked() == pytest.approx(2 / 2000)


def test_parse_cards_reads_values_as_astropy_does():
    from snapscope.image._fitsfile import parse_cards

    header = fits.Header([("SIMPLE", True), ("BITPIX", -32), ("NAXIS", 2), ("NAXIS1", 4088),
                          ("BZERO", 2147483648), ("BSCALE", 0.5), ("BIG", 1.5e300),
                          ("EXTNAME", "SCI  "), ("QUOTED", "it's / here"), ("FLAG", False),
                          ("NEG", -128), ("COMMENT", "x = 1")])
    text = header.tostring().replace("1.5E+300", "1.5D+300")
    cards = parse_cards(text.encode())
    parsed = fits.Header.fromstring(text)
    assert "COMMENT" not in cards
    for key, value in cards.items():
        assert value == parsed[key] and type(value) is type(parsed[key]), key
    assert set(cards) == set(parsed.keys()) - {"COMMENT"}


def test_released_pages_are_read_again(tmp_path):
    path, truth = make_ou2024_file(tmp_path, shape=(300, 200))
    im = OpenUniverse2024FITSImage(full_filepath=path)
    view = im.get_data_view("data")
    assert float(view.sum()) == pytest.approx(float(truth["sci"].sum()), rel=1e-6)
    fitscache.release_mapped_pages()
    np.testing.assert_array_equal(view, truth["sci"])
    np.testing.assert_array_equal(im.get_data_view("flags"), truth["dq"])


def test_tile_compressed_hdus_are_read_by_astropy(tmp_path):
    from snapscope.image import FITSImage

    path, truth = make_ou2024_file(tmp_path, shape=(30, 20))
    packed = tmp_path / "packed.fits"
    fits.HDUList([fits.PrimaryHDU(),
                  fits.CompImageHDU(truth["sci"], truth["header"], name="SCI",
                                    compression_type="GZIP_1")]).writeto(packed)
    im = FITSImage(full_filepath=packed, imagehdu="SCI")
    assert im.image_shape == (30, 20)
    with fits.open(packed) as hdul:
        np.testing.assert_array_equal(im.get_data_view("data"), hdul["SCI"].data)  # quantized
        direct = AstropyWCS.from_header(hdul["SCI"].header)
    assert im.get_wcs().world_to_pixel(7.5501, -44.8001) == direct.world_to_pixel(7.5501, -44.8001)
