"""The pixel-source contract: Image.pixel_source / PixelSource keys and page-cache advice, and
the one mask vocabulary (resolve_mask / Image.pixel_mask) that photometry and tiles share."""

import ctypes
import mmap
import os
import time

import numpy as np
import pytest
from fitsmaker import make_ou2024_file

import snapscope.image._fitscache as fitscache
from snapscope.image import (
    Numpy2DImage,
    OpenUniverse2024FITSImage,
    PixelMask,
    PixelSource,
    ScaledPlane,
    resolve_mask,
)
from snapscope.tiles import TileCache, TilePyramid

HAS_SMAPS = os.path.exists("/proc/self/smaps")
needs_smaps = pytest.mark.skipif(not HAS_SMAPS, reason="needs Linux /proc/self/smaps")


@pytest.fixture(autouse=True)
def _empty_cache():
    fitscache.clear_open_files()
    yield
    fitscache.clear_open_files()


def ou2024(tmp_path, **kw):
    """A fresh OU2024 file (read-only for the tests): (path, truth)."""
    return make_ou2024_file(tmp_path, shape=(60, 40), dq_bits={(5, 7): 1, (9, 3): 4, (9, 4): 5}, **kw)


def mapped_rss_kb(array):
    """Resident kB of the memory mapping that holds ``array``'s first byte (from smaps)."""
    address = array.ctypes.data
    inside = False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()[0]
            if "-" in head and ":" not in head:
                lo, hi = (int(v, 16) for v in head.split("-"))
                inside = lo <= address < hi
            elif inside and head == "Rss:":
                return int(line.split()[1])
    raise AssertionError("mapping not found")


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# ----------------------------------------------------------------------------- keys
def test_file_key_is_shared_by_images_of_one_file_and_changes_with_the_file(tmp_path):
    path, truth = ou2024(tmp_path)
    a, b = (OpenUniverse2024FITSImage(full_filepath=path) for _ in range(2))
    data_a, data_b = a.pixel_source("data"), b.pixel_source("data")
    assert data_a.key == data_b.key and data_a.key[0] == "file"
    np.testing.assert_array_equal(np.asarray(data_a.array), truth["sci"])
    flags_a, flags_b = a.pixel_source("flags"), b.pixel_source("flags")
    assert isinstance(flags_a.array, ScaledPlane)  # uint32 DQ stored as int32 + BZERO
    assert flags_a.key == flags_b.key and flags_a.key[0] == "file"
    assert len({data_a.key, a.pixel_source("noise").key, flags_a.key}) == 3

    other = tmp_path / "other"
    other.mkdir()
    replacement, truth2 = ou2024(other, seed=7)
    os.replace(replacement, path)  # a new file renamed into place, as Image.save does
    c = OpenUniverse2024FITSImage(full_filepath=path)
    assert c.pixel_source("data").key != data_a.key
    assert c.pixel_source("flags").key != flags_a.key
    np.testing.assert_array_equal(np.asarray(c.pixel_source("data").array), truth2["sci"])


def test_a_file_rewritten_in_place_gets_a_new_key(tmp_path):
    path, _ = ou2024(tmp_path)
    before = OpenUniverse2024FITSImage(full_filepath=path).pixel_source("data").key
    data = path.read_bytes()
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # same inode and size, new mtime
    path.write_bytes(data)
    assert OpenUniverse2024FITSImage(full_filepath=path).pixel_source("data").key != before


def test_array_keys_follow_the_buffer_and_are_never_reused():
    a = np.zeros((10, 10), np.float32)
    assert PixelSource(a).key == PixelSource(a).key == PixelSource(a[:]).key
    assert PixelSource(a).key != PixelSource(a[1:]).key
    assert PixelSource(a).key != PixelSource(a.copy()).key
    image = Numpy2DImage(data=a)
    assert image.pixel_source().key == PixelSource(a).key
    seen = set()
    for _ in range(20):  # a recycled id() never gives an old key
        b = np.ones((10, 10), np.float32)
        key = PixelSource(b).key
        assert key not in seen
        seen.add(key)
        del b


def test_planes_the_image_lacks_are_none_and_bad_planes_are_refused():
    image = Numpy2DImage(data=np.zeros((4, 5)))
    assert image.pixel_source("noise") is None and image.pixel_source("flags") is None
    with pytest.raises(ValueError, match="'data', 'noise' or 'flags'"):
        image.pixel_source("all")
    with pytest.raises(ValueError, match="2-D"):
        PixelSource(np.zeros(5))


# ----------------------------------------------------------------------------- advice
def test_prefetch_and_release_on_arrays_in_memory_are_harmless_no_ops():
    rng = np.random.default_rng(2)
    data = rng.normal(size=(300, 1100))  # > 2 MB: its own anonymous mapping
    flags = (rng.random(data.shape) < 0.1).astype(np.int32)
    image = Numpy2DImage(data=data.copy(), flags=flags.copy())
    for which, truth in (("data", data), ("flags", flags)):
        source = image.pixel_source(which)
        source.prefetch(range(-5, 400))
        source.prefetch(np.array([0, 17, 299]), cols=(3, 5000))
        source.release(0, 300)  # MADV_DONTNEED here would zero anonymous memory
        source.release(-10, 10**6)
        np.testing.assert_array_equal(source.array, truth)
    np.testing.assert_array_equal(image.data, data)


@needs_smaps
@pytest.mark.parametrize("mode, released", [("r", True), ("r+", True), ("c", False)])
def test_release_drops_mapped_pages_only_where_no_data_can_be_lost(tmp_path, mode, released):
    np.zeros((256, 1024), np.float32).tofile(tmp_path / "z.bin")  # 1 MiB, 256 pages
    mm = np.memmap(tmp_path / "z.bin", dtype=np.float32, mode=mode, shape=(256, 1024))
    if mode != "r":
        mm[0, 0] = 5.0  # a change to a writable map survives a release
    assert float(np.asarray(mm).sum()) in (0.0, 5.0)  # every page mapped now
    resident = mapped_rss_kb(mm)
    assert resident >= 1024
    PixelSource(mm).release(0, 256)
    after = mapped_rss_kb(mm)
    assert after < 64 if released else after == resident  # copy-on-write: left alone
    assert mm[0, 0] == (0.0 if mode == "r" else 5.0)


@needs_smaps
def test_release_of_an_image_plane_after_reading_it(tmp_path):
    path, truth = make_ou2024_file(tmp_path, shape=(512, 1024))  # 2 MiB of float32 data
    source = OpenUniverse2024FITSImage(full_filepath=path).pixel_source("data")
    assert float(source.read(0, 512, 0, 1024).sum()) == pytest.approx(float(truth["sci"].sum()),
                                                                      rel=1e-5)
    assert mapped_rss_kb(source.array) >= 2048
    source.release(0, 512)
    assert mapped_rss_kb(source.array) < 64
    np.testing.assert_array_equal(source.read(0, 512, 0, 1024), truth["sci"])  # read again


@needs_smaps
def test_column_major_maps_are_not_advised(tmp_path):
    mm = np.memmap(tmp_path / "f.bin", dtype=np.float32, mode="w+", shape=(256, 1024), order="F")
    mm[:] = 1.0
    resident = mapped_rss_kb(mm)
    PixelSource(mm).release(0, 256)  # the row arithmetic does not apply: nothing is dropped
    assert mapped_rss_kb(mm) == resident and float(mm.sum()) == 256 * 1024


def _page_cache_residency(mm_array):
    """Per-page bool: whether each page of ``mm_array``'s file mapping is in the page cache."""
    libc = ctypes.CDLL(None, use_errno=True)
    start = mm_array.ctypes.data - mm_array.ctypes.data % mmap.PAGESIZE
    length = mm_array.ctypes.data + mm_array.nbytes - start
    vec = (ctypes.c_ubyte * (-(-length // mmap.PAGESIZE)))()
    if libc.mincore(ctypes.c_void_p(start), ctypes.c_size_t(length), vec) != 0:
        pytest.skip(f"mincore failed: {os.strerror(ctypes.get_errno())}")
    return np.frombuffer(vec, np.uint8) & 1 == 1, start


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="needs posix_fadvise")
def test_prefetch_reads_the_rows_asked_for_into_the_page_cache(tmp_path):
    path = tmp_path / "cold.bin"
    np.arange(2048 * 1024, dtype=np.float32).tofile(path)  # 8 MiB: 4 KiB per row
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
    mm = np.memmap(path, dtype=np.float32, mode="r", shape=(2048, 1024))
    resident, start = _page_cache_residency(mm)
    if resident.any():
        pytest.skip("this filesystem keeps the file in memory (cannot evict it)")
    rows = np.array([100, 101, 102, 900, 1500])
    PixelSource(mm).prefetch(int(r) for r in rows)  # any iterable of ints (the tiles pass arrays)
    pages = sorted({(mm[r].ctypes.data - start) // mmap.PAGESIZE for r in rows})
    assert wait_until(lambda: _page_cache_residency(mm)[0][pages].all())
    resident = _page_cache_residency(mm)[0]
    assert not resident[1900 * 4096 // mmap.PAGESIZE:].any()  # only what was asked for


# ----------------------------------------------------------------------------- masks
@pytest.fixture
def flagged():
    data = np.arange(20.0).reshape(4, 5)
    flags = np.zeros((4, 5), np.uint32)
    flags[0, 1], flags[2, 3], flags[3, 4] = 1, 4, 5
    return Numpy2DImage(data=data, flags=flags), flags


def test_each_mask_form_resolves_to_the_same_bad_pixels_everywhere(flagged):
    image, flags = flagged
    given = np.zeros((4, 5), bool)
    given[1, 1] = True
    cases = [(None, None), (False, None), (0, None), ("flags", flags != 0), (4, (flags & 4) != 0),
             (np.uint8(1), (flags & 1) != 0), (given, given), (given.astype(np.uint8), given),
             (given.tolist(), given)]
    for form, expected in cases:
        resolved = image.pixel_mask(form)
        if expected is None:
            assert resolved is None, form
            continue
        assert isinstance(resolved, PixelMask) and resolved.shape == (4, 5)
        np.testing.assert_array_equal(np.asarray(resolved), expected)
        np.testing.assert_array_equal(resolved[1:, ::2], expected[1:, ::2])
        assert image.pixel_mask(resolved) is resolved  # an already resolved mask passes through
        # the tiles read the same mask: masked pixels are NaN in a full-resolution tile
        tile = TilePyramid(image, mask=form, tile_size=8, cache=TileCache(2**20)).tile(0, 0, 0)
        np.testing.assert_array_equal(np.isnan(tile), expected)


def test_bits_of_big_endian_flags_are_tested_without_swapping():
    flags = np.array([[0, 1, 4], [5, 256, 0]], dtype=">i4")
    source = PixelSource(flags)
    np.testing.assert_array_equal(np.asarray(PixelMask(source, 4)), [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(np.asarray(PixelMask(source, 256)), [[0, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(np.asarray(PixelMask(source)), flags != 0)


def test_the_flags_are_opened_only_when_the_mask_names_them(flagged):
    image, _ = flagged
    opened = []
    flags = lambda: opened.append(1) or image.pixel_source("flags")  # noqa: E731
    for form in (None, 0, False, np.zeros((4, 5), bool)):
        resolve_mask(form, (4, 5), flags)
    assert opened == []
    resolve_mask("flags", (4, 5), flags)
    assert opened == [1]


def test_bad_masks_raise_errors_naming_the_accepted_forms(flagged):
    image, _ = flagged
    forms = r"None, 'flags', an int bitmask of flag bits, or a bool array of the image's shape"
    with pytest.raises(ValueError, match=f"mask must be {forms}; not 'dq'"):
        image.pixel_mask("dq")
    with pytest.raises(ValueError, match=f"mask=True is ambiguous: mask must be {forms}"):
        image.pixel_mask(True)
    with pytest.raises(TypeError, match=f"mask must be {forms}; not a float"):
        image.pixel_mask(0.5)
    with pytest.raises(ValueError, match=r"mask has shape \(5, 4\) but the image has shape \(4, 5\)"):
        image.pixel_mask(np.zeros((5, 4), bool))
    with pytest.raises(ValueError, match=r"mask has shape \(20,\)"):
        image.pixel_mask(np.zeros(20, bool))
    bare = Numpy2DImage(data=np.zeros((4, 5)))
    with pytest.raises(ValueError, match="mask='flags' needs a flags plane; this image has none"):
        bare.pixel_mask("flags")
    with pytest.raises(ValueError, match="mask=4 .a flag bitmask. needs a flags plane"):
        bare.pixel_mask(4)
    with pytest.raises(ValueError, match="mask must be"):  # photometry reads it the same way
        image.ap_phot({"x": [2.0], "y": [2.0]}, ap_r=1, bgsize=0, mask="noise")


def test_photometry_and_tiles_share_a_file_mask_by_key(tmp_path):
    path, truth = ou2024(tmp_path)
    a, b = (OpenUniverse2024FITSImage(full_filepath=path) for _ in range(2))
    assert a.pixel_mask(4).key == b.pixel_mask(4).key != a.pixel_mask("flags").key
    np.testing.assert_array_equal(np.asarray(a.pixel_mask(4)), (truth["dq"] & 4) != 0)
    cache = TileCache(2**22)
    assert TilePyramid(a, mask=4, cache=cache).key == TilePyramid(b, mask=4, cache=cache).key
