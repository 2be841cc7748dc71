"""snapscope.tiles: pyramid contents against independent block means, encoding, rendering, cache."""

from __future__ import annotations

import json
import math
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from snapscope.exceptions import OutsideImageError
from snapscope.tiles import (
    COLORMAPS,
    STRETCHES,
    TileCache,
    TilePyramid,
    colormap_lut,
    decode_tile,
    default_cache,
    encode_tile,
    render_rgba,
)

BIG_CACHE = 2**26


# ----------------------------------------------------------------------------- references
def reference_level(data, bad, level):
    """Block means by plain loops over blocks (float64), NaN for blocks with no valid pixel."""
    f = 2**level
    ny, nx = data.shape
    out = np.full((math.ceil(ny / f), math.ceil(nx / f)), np.nan)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            block = np.asarray(data[i * f : (i + 1) * f, j * f : (j + 1) * f], dtype=np.float64)
            ok = np.isfinite(block)
            if bad is not None:
                ok &= ~bad[i * f : (i + 1) * f, j * f : (j + 1) * f]
            if ok.any():
                out[i, j] = block[ok].sum() / ok.sum()
    return out


def stitch(pyr, level):
    """Assemble a whole level from its tiles, checking each tile's shape on the way."""
    ts = pyr.tile_size
    ny, nx = pyr.level_shape(level)
    out = np.full((ny, nx), -12345.0, dtype=np.float32)
    nty, ntx = pyr.n_tiles(level)
    for ty in range(nty):
        for tx in range(ntx):
            t = pyr.tile(level, tx, ty)
            assert t.shape == (min(ts, ny - ty * ts), min(ts, nx - tx * ts))
            out[ty * ts : ty * ts + t.shape[0], tx * ts : tx * ts + t.shape[1]] = t
    return out


def assert_level(pyr, data, bad, level):
    np.testing.assert_allclose(
        stitch(pyr, level), reference_level(data, bad, level), rtol=2e-6, atol=1e-6, equal_nan=True
    )


def noisy(shape, seed=0, nan_frac=0.05, inf=True):
    rng = np.random.default_rng(seed)
    a = rng.normal(100.0, 10.0, shape).astype(np.float32)
    a[rng.random(shape) < nan_frac] = np.nan
    if inf and a.size > 4:
        a.flat[1] = np.inf
        a.flat[-2] = -np.inf
    return a


class CountingArray:
    """A read-only 2-D array-like that records the sections read from it."""

    def __init__(self, a):
        self.a, self.shape, self.reads = a, a.shape, []

    def __getitem__(self, key):
        self.reads.append(key)
        return self.a[key]


# ----------------------------------------------------------------------------- geometry
@pytest.mark.parametrize(
    ("shape", "ts", "top", "tiles0"),
    [
        ((512, 512), 512, 0, (1, 1)),
        ((513, 100), 512, 1, (2, 1)),
        ((4088, 4088), 512, 3, (8, 8)),
        ((1, 1000), 64, 4, (1, 16)),
        ((1000, 1), 64, 4, (16, 1)),
        ((1, 1), 8, 0, (1, 1)),
        ((37, 53), 8, 3, (5, 7)),
    ],
)
def test_geometry(shape, ts, top, tiles0):
    pyr = TilePyramid(np.zeros(shape, np.float32), tile_size=ts, cache=TileCache(BIG_CACHE))
    assert pyr.shape == shape and pyr.tile_size == ts
    assert pyr.top_level == top and pyr.n_levels == top + 1
    assert pyr.n_tiles(0) == tiles0
    for k in range(pyr.n_levels):
        assert pyr.level_shape(k) == (math.ceil(shape[0] / 2**k), math.ceil(shape[1] / 2**k))
    assert max(pyr.level_shape(top)) <= ts
    assert top == 0 or max(pyr.level_shape(top - 1)) > ts
    assert pyr.n_tiles(top) == (1, 1)
    assert pyr.overview().shape == pyr.level_shape(top)


def test_bad_arguments():
    a = np.zeros((10, 10), np.float32)
    with pytest.raises(ValueError, match="2-D"):
        TilePyramid(np.zeros(10))
    with pytest.raises(ValueError, match="2-D"):
        TilePyramid(np.zeros((0, 5)))
    with pytest.raises(ValueError, match="tile_size"):
        TilePyramid(a, tile_size=0)
    with pytest.raises(TypeError, match="TileCache"):
        TilePyramid(a, cache={})
    with pytest.raises(ValueError, match="flags plane"):
        TilePyramid(a, mask="flags")
    with pytest.raises(ValueError, match="flags plane"):
        TilePyramid(a, mask=4)
    with pytest.raises(ValueError, match="'flags'"):
        TilePyramid(a, mask="dq")
    with pytest.raises(ValueError, match="ambiguous"):
        TilePyramid(a, mask=True)
    with pytest.raises(ValueError, match="shape"):
        TilePyramid(a, mask=np.zeros((10, 11), bool))
    with pytest.raises(TypeError, match="mask"):
        TilePyramid(a, mask=object())
    pyr = TilePyramid(a, tile_size=4, cache=TileCache(BIG_CACHE))
    for args in [(0, 3, 0), (0, 0, 3), (0, -1, 0), (3, 0, 0), (-1, 0, 0)]:
        with pytest.raises(OutsideImageError):
            pyr.tile(*args)
    with pytest.raises(OutsideImageError):
        pyr.level_shape(9)
    with pytest.raises(TypeError):
        pyr.tile(0, 0.5, 0)


# ----------------------------------------------------------------------------- contents
@pytest.mark.parametrize("shape", [(37, 53), (64, 64), (1, 100), (100, 1), (17, 17), (33, 8)])
@pytest.mark.parametrize("cache_bytes", [BIG_CACHE, 4096])
def test_levels_equal_loop_block_means(shape, cache_bytes):
    """Every level, stitched from tiles, equals block means by loops (NaN and ±inf ignored).

    A big cache keeps levels 1..top resident (one pass); a tiny one makes most levels direct.
    """
    data = noisy(shape)
    pyr = TilePyramid(data, tile_size=8, cache=TileCache(cache_bytes))
    for level in range(pyr.n_levels):
        assert_level(pyr, data, None, level)


@pytest.mark.parametrize("cache_bytes", [BIG_CACHE, 4096])
@pytest.mark.parametrize("shape", [(37, 53), (6, 5), (1, 9), (1, 1)])
def test_overview_max_size_levels_beyond_top(shape, cache_bytes):
    data = noisy(shape, seed=8, inf=False)
    bad = np.zeros(shape, bool)
    bad.flat[::4] = True
    pyr = TilePyramid(data, mask=bad, tile_size=8, cache=TileCache(cache_bytes))
    assert pyr.overview_level() == pyr.overview_level(10**6) == pyr.top_level
    np.testing.assert_array_equal(pyr.overview(10**6), pyr.overview())
    for max_size in range(1, max(shape) + 1):
        level = pyr.overview_level(max_size)
        ov = pyr.overview(max_size)
        assert max(ov.shape) <= max(max_size, max(pyr.level_shape(pyr.top_level)))
        assert not ov.flags.writeable and ov.dtype == np.float32
        np.testing.assert_allclose(
            ov, reference_level(data, bad, level), rtol=2e-6, atol=1e-6, equal_nan=True
        )
    assert pyr.overview(1).shape == (1, 1)
    with pytest.raises(ValueError, match="max_size"):
        pyr.overview(0)


def test_preview_samples_block_centres():
    data = noisy((37, 53), seed=12)
    bad = np.zeros(data.shape, bool)
    bad[4, 4] = True
    src = CountingArray(data)
    pyr = TilePyramid(src, mask=bad, tile_size=8, cache=TileCache(BIG_CACHE))
    assert not pyr.overview_ready
    prev = pyr.preview()
    assert not pyr.overview_ready and len(src.reads) == 1  # one read of the sampled rows
    assert prev.shape == pyr.overview().shape == (5, 7) and not prev.flags.writeable
    assert pyr.overview_ready
    rows = np.minimum(np.arange(5) * 8 + 4, 36)
    cols = np.minimum(np.arange(7) * 8 + 4, 52)
    expected = data[np.ix_(rows, cols)]
    expected = np.where(np.isfinite(expected) & ~bad[np.ix_(rows, cols)], expected, np.nan)
    np.testing.assert_array_equal(prev, expected)
    assert np.isnan(prev[0, 0])  # the masked centre pixel
    assert pyr.preview(4).shape == pyr.overview(4).shape == (3, 4)
    small = TilePyramid(np.arange(12.0).reshape(3, 4), tile_size=8, cache=TileCache(BIG_CACHE))
    np.testing.assert_array_equal(small.preview(), np.arange(12.0).reshape(3, 4))
    assert not small.overview_ready
    small.overview()
    assert small.overview_ready


@pytest.mark.parametrize("f", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("invalid_frac", [0.0, 0.002, 0.3])  # none, sparse (gathered), dense (zeroed)
@pytest.mark.parametrize("with_bad", [False, True])
def test_block_sum_count_paths(f, invalid_frac, with_bad):
    from snapscope.image import PixelMask, PixelSource
    from snapscope.tiles._reduce import block_mean, block_sum_count
    from snapscope.tiles._source import BadPixels

    rng = np.random.default_rng(f)
    a = rng.normal(0, 1, (61, 83)).astype(">f4")
    a[rng.random(a.shape) < invalid_frac] = np.nan
    bad = (rng.random(a.shape) < invalid_frac) if with_bad else None
    if with_bad and invalid_frac:
        bad[-1, -1] = True  # a partial edge block
    sums, counts = block_sum_count(a, f, None if bad is None else BadPixels(bad, PixelMask(PixelSource(bad))))
    valid = np.isfinite(a) if bad is None else np.isfinite(a) & ~bad
    ny, nx = math.ceil(61 / f), math.ceil(83 / f)
    ref_sums, ref_counts = np.zeros((ny, nx)), np.zeros((ny, nx))
    for i in range(ny):
        for j in range(nx):
            rows, cols = slice(i * f, (i + 1) * f), slice(j * f, (j + 1) * f)
            ok = valid[rows, cols]
            ref_sums[i, j], ref_counts[i, j] = a[rows, cols][ok].astype(float).sum(), ok.sum()
    if invalid_frac == 0:
        assert counts is None  # every block full
    else:
        np.testing.assert_array_equal(counts, ref_counts)
    np.testing.assert_allclose(sums, ref_sums, rtol=1e-5, atol=1e-5)
    mean = block_mean(sums, counts, f, a.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = ref_sums / ref_counts
    np.testing.assert_allclose(mean, expected, rtol=1e-5, atol=1e-5, equal_nan=True)


def test_level0_has_nan_for_inf_and_masked():
    data = noisy((20, 30))
    bad = np.zeros(data.shape, bool)
    bad[3, 4] = bad[10, 11] = True
    t = TilePyramid(data, mask=bad, tile_size=32, cache=TileCache(BIG_CACHE)).tile(0, 0, 0)
    expected = np.where(np.isfinite(data) & ~bad, data, np.nan)
    np.testing.assert_array_equal(t, expected)


def test_matches_astropy_block_reduce():
    from astropy.nddata import block_reduce

    data = np.random.default_rng(3).normal(0, 1, (64, 96)).astype(np.float32)
    pyr = TilePyramid(data, tile_size=16, cache=TileCache(BIG_CACHE))
    for level in range(1, pyr.n_levels):
        np.testing.assert_allclose(
            stitch(pyr, level), block_reduce(data, 2**level, func=np.mean), rtol=1e-5, atol=1e-6
        )


def test_bool_mask_and_big_endian_memmap(tmp_path):
    data = noisy((45, 70), seed=1).astype(">f4")
    bad = np.random.default_rng(2).random(data.shape) < 0.2
    bad[:8, :8] = True  # a whole block masked: NaN at level 3
    mm = np.memmap(tmp_path / "a.bin", dtype=">f4", mode="w+", shape=data.shape)
    mm[:] = data
    mm.flush()
    src = np.memmap(tmp_path / "a.bin", dtype=">f4", mode="r", shape=data.shape)
    pyr = TilePyramid(src, mask=bad, tile_size=16, cache=TileCache(BIG_CACHE))
    for level in range(pyr.n_levels):
        assert_level(pyr, data, bad, level)
    assert np.isnan(pyr.tile(3, 0, 0)[0, 0])


def test_all_nan_image():
    data = np.full((40, 50), np.nan, np.float32)
    pyr = TilePyramid(data, tile_size=16, cache=TileCache(BIG_CACHE))
    for level in range(pyr.n_levels):
        assert np.isnan(stitch(pyr, level)).all()
    assert pyr.default_cuts() == (0.0, 1.0)
    stats = pyr.stats()
    assert stats["n_valid"] == 0 and stats["min"] is None and stats["median"] is None
    json.dumps(stats, allow_nan=False)
    header, payload = encode_tile(pyr.overview())
    assert header == {"dtype": "float16", "shape": list(pyr.overview().shape), "scale": 1.0}
    json.dumps(header, allow_nan=False)
    assert np.isnan(decode_tile(header, payload)).all()


def test_fully_masked_image():
    data = np.ones((20, 20), np.float32)
    pyr = TilePyramid(data, mask=np.ones(data.shape, bool), tile_size=8, cache=TileCache(BIG_CACHE))
    assert np.isnan(pyr.overview()).all()
    assert pyr.default_cuts() == (0.0, 1.0)


def test_cuts_and_stats():
    data = noisy((300, 200), seed=5)
    pyr = TilePyramid(data, tile_size=64, cache=TileCache(BIG_CACHE))
    ov = pyr.overview()
    finite = ov[np.isfinite(ov)]
    lo, hi = pyr.default_cuts(99.0)
    assert (lo, hi) == pytest.approx(tuple(np.percentile(finite, [0.5, 99.5])))
    stats = pyr.stats()
    assert stats["level"] == pyr.top_level and stats["n_valid"] == finite.size
    assert stats["min"] == pytest.approx(finite.min()) and stats["max"] == pytest.approx(finite.max())
    assert stats["median"] == pytest.approx(np.median(finite))
    assert stats["percentiles"][99.5] == pytest.approx(np.percentile(finite, 99.5))
    json.dumps(stats, allow_nan=False)
    flat = TilePyramid(np.full((10, 10), 7.0), tile_size=8, cache=TileCache(BIG_CACHE))
    assert flat.default_cuts() == (6.5, 7.5)
    with pytest.raises(ValueError, match="percentile"):
        pyr.default_cuts(0)


def test_tiles_are_readonly_contiguous_float32():
    pyr = TilePyramid(noisy((40, 40)), tile_size=16, cache=TileCache(BIG_CACHE))
    for level in range(pyr.n_levels):
        t = pyr.tile(level, 0, 0)
        assert t.dtype == np.float32 and t.flags.c_contiguous and not t.flags.writeable


# ----------------------------------------------------------------------------- laziness
def test_lazy_reads():
    data = noisy((100, 120), nan_frac=0)
    src = CountingArray(data)
    pyr = TilePyramid(src, tile_size=16, cache=TileCache(BIG_CACHE))
    assert src.reads == []  # constructing reads nothing
    pyr.tile(0, 2, 3)
    assert src.reads == [(slice(48, 64), slice(32, 48))]  # a level-0 tile reads its section only
    pyr.tile(0, 2, 3)
    assert len(src.reads) == 1  # cached
    pyr.overview()
    n = len(src.reads)
    rows = sorted(key[0].start for key in src.reads[1:])
    assert rows[0] == 0 and all(key[1] == slice(0, 120) for key in src.reads[1:])  # full-width strips
    for level in range(1, pyr.n_levels):  # resident levels: no further reads
        stitch(pyr, level)
    assert len(src.reads) == n


def test_direct_levels_read_their_section():
    data = noisy((100, 120), nan_frac=0)
    src = CountingArray(data)
    pyr = TilePyramid(src, tile_size=16, cache=TileCache(16 * 16 * 4 * 8))  # forces direct levels
    pyr.tile(1, 1, 2)
    assert src.reads == [(slice(64, 96), slice(32, 64))]
    assert_level(pyr, data, None, 1)


# ----------------------------------------------------------------------------- Image sources
def test_numpy_image_uses_flags():
    from snapscope.image import Numpy2DImage

    data = noisy((40, 36), seed=7, nan_frac=0.0, inf=False)
    flags = np.zeros(data.shape, np.int32)
    flags[::3, ::5] = 4
    flags[1::7, ::2] = 1
    image = Numpy2DImage(data=data, flags=flags)
    kw = dict(tile_size=8, cache=TileCache(BIG_CACHE))
    for mask, bad in [
        (None, flags != 0),
        ("flags", flags != 0),
        (4, (flags & 4) != 0),
        (0, None),
        (False, None),
    ]:
        pyr = TilePyramid(image, mask=mask, **kw)
        for level in range(pyr.n_levels):
            assert_level(pyr, data, bad, level)
    # an explicit bool mask replaces the flags
    bad = np.zeros(data.shape, bool)
    bad[5, 5] = True
    assert_level(TilePyramid(image, mask=bad, **kw), data, bad, 0)
    no_flags = TilePyramid(Numpy2DImage(data=data), **kw)
    assert_level(no_flags, data, None, 2)


def _write_ou2024(path, data, flags):
    from astropy.io import fits

    fits.HDUList(
        [
            fits.PrimaryHDU(),
            fits.ImageHDU(data, name="SCI"),
            fits.ImageHDU(np.ones_like(data), name="ERR"),
            fits.ImageHDU(flags, name="DQ"),
        ]
    ).writeto(path)


def test_fits_image_source_and_sharing(tmp_path):
    from snapscope.image import FITSImage

    data = noisy((70, 90), seed=9, inf=False)
    flags = np.zeros(data.shape, np.int32)
    flags[10:20, 30:33] = 2
    path = tmp_path / "img.fits"
    _write_ou2024(path, data, flags)
    cache = TileCache(BIG_CACHE)
    im1 = FITSImage(full_filepath=path, imagehdu=1, noisehdu=2, flagshdu=3)
    im2 = FITSImage(full_filepath=path, imagehdu=1, noisehdu=2, flagshdu=3)
    p1 = TilePyramid(im1, tile_size=16, cache=cache)
    p2 = TilePyramid(im2, tile_size=16, cache=cache)
    assert p1.key == p2.key and p1.key[0][0] == "file"  # keyed on the file, not the object
    for level in range(p1.n_levels):
        assert_level(p1, data, flags != 0, level)
    n = len(cache)
    for level in range(p2.n_levels):
        stitch(p2, level)
    assert len(cache) == n  # the second image's pyramid found every tile cached
    # another HDU of the same file is another plane
    errs = TilePyramid(
        FITSImage(full_filepath=path, imagehdu=2, noisehdu=1, flagshdu=3),
        mask=0,
        tile_size=16,
        cache=cache,
    )
    assert errs.key != p1.key
    assert np.allclose(errs.overview(), 1.0)


def test_array_identity_keys():
    a = np.zeros((10, 10), np.float32)
    cache = TileCache(BIG_CACHE)
    assert TilePyramid(a, cache=cache).key == TilePyramid(a, cache=cache).key
    assert TilePyramid(a, cache=cache).key == TilePyramid(a[:], cache=cache).key  # same buffer
    assert TilePyramid(a, cache=cache).key != TilePyramid(a[1:], cache=cache).key
    assert TilePyramid(a, cache=cache).key != TilePyramid(a.copy(), cache=cache).key
    assert TilePyramid(a, cache=cache).key != TilePyramid(a, mask=a > 0, cache=cache).key
    old_keys = set()
    for _ in range(20):  # recycled ids never give an old key
        b = np.ones((10, 10), np.float32)
        key = TilePyramid(b, cache=cache).key
        assert key not in old_keys
        old_keys.add(key)
        del b


def test_fortran_order_memmap_and_other_dtypes(tmp_path):
    data = noisy((30, 45), seed=13, inf=False)
    mm = np.memmap(tmp_path / "f.bin", dtype=np.float32, mode="w+", shape=data.shape, order="F")
    mm[:] = data
    assert_level(TilePyramid(mm, tile_size=8, cache=TileCache(BIG_CACHE)), data, None, 2)
    ints = np.random.default_rng(1).integers(0, 60000, (30, 45)).astype(">u2")
    pyr = TilePyramid(ints, tile_size=8, cache=TileCache(BIG_CACHE))
    for level in range(pyr.n_levels):
        assert_level(pyr, ints, None, level)
    f64 = noisy((30, 45), seed=14).astype(np.float64)
    f64[7, 9] = 1e300  # beyond float32: invalid, like inf
    expected = np.where(np.abs(f64) < 1e39, f64, np.nan)
    pyr = TilePyramid(f64, tile_size=8, cache=TileCache(BIG_CACHE))
    for level in range(pyr.n_levels):
        assert_level(pyr, expected, None, level)
    assert pyr.preview().shape == pyr.overview().shape  # and no overflow warning (error here)


# ----------------------------------------------------------------------------- encoding
def test_encode_round_trip():
    t = noisy((30, 20), seed=11)
    h32, p32 = encode_tile(t, "float32")
    assert h32 == {"dtype": "float32", "shape": [30, 20], "scale": 1.0}  # what decoders read
    json.dumps(h32, allow_nan=False)
    assert len(p32) == 30 * 20 * 4
    np.testing.assert_array_equal(decode_tile(h32, p32), t)
    h16, p16 = encode_tile(t)
    assert h16["dtype"] == "float16" and len(p16) == 30 * 20 * 2
    assert np.array_equal(np.frombuffer(p16, "<f2").reshape(30, 20), t.astype(np.float16), equal_nan=True)
    np.testing.assert_allclose(decode_tile(h16, memoryview(p16)), t, rtol=2**-11, equal_nan=True)


def test_encode_float16_overflow_uses_power_of_two_scale():
    t = np.array([[1e6, -3e5, 100.0], [np.nan, 1.0, 65504.0]], np.float32)
    header, payload = encode_tile(t, "float16")  # no RuntimeWarning (filterwarnings=error)
    scale = header["scale"]
    assert scale == 2.0 ** math.ceil(math.log2(1e6 / 65504)) == 16.0
    stored = np.frombuffer(payload, "<f2")
    assert np.isfinite(stored[[0, 1, 2, 4, 5]]).all()
    np.testing.assert_allclose(decode_tile(header, payload), t, rtol=2**-11, equal_nan=True)
    big = np.array([[3e38, -3e38]], np.float32)
    h, p = encode_tile(big)
    np.testing.assert_allclose(decode_tile(h, p), big, rtol=2**-11)
    h, _ = encode_tile(np.array([[65504.0, -65504.0]], np.float32))
    assert h["scale"] == 1.0
    with pytest.raises(ValueError, match="dtype"):
        encode_tile(t, "uint8")
    with pytest.raises(ValueError, match="2-D"):
        encode_tile(np.zeros(3))


def special_values(shape, seed):
    """Noisy sky with every kind of value a tile can hold (NaN, ±inf, ±0, negative, subnormal)."""
    t = noisy(shape, seed=seed)
    t.flat[:6] = [-0.0, 0.0, -12.5, 3e-6, -7e-8, 60000.0]
    return t


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("scaled", [False, True])
def test_compressed_tiles_decode_to_the_same_bits(dtype, scaled):
    t = special_values((64, 48), seed=21)
    if scaled:
        t[5, 5] = -2e6  # float16 needs scale 32
    h_raw, p_raw = encode_tile(t, dtype)
    header, payload = encode_tile(t, dtype, compress=True)
    assert header == {**h_raw, "compression": "zlib", "shuffle": len(p_raw) // t.size, "base": header["base"]}
    assert len(payload) < 0.8 * len(p_raw)
    raw = decode_tile(h_raw, p_raw)
    assert decode_tile(header, memoryview(payload)).view(np.uint32).tolist() == raw.view(np.uint32).tolist()


def test_incompressible_or_uniform_tiles():
    rng = np.random.default_rng(2)
    bits = rng.integers(0, 2**15, (32, 32), dtype=np.uint16)
    scrambled = bits.view(np.float16).astype(np.float32)  # uniform over all exponents
    header, payload = encode_tile(scrambled, compress=True)
    assert "compression" not in header and len(payload) == scrambled.size * 2
    nan = np.full((16, 16), np.nan, np.float32)
    header, payload = encode_tile(nan, compress=True)
    assert header["compression"] == "zlib" and len(payload) < 32
    assert np.isnan(decode_tile(header, payload)).all()
    with pytest.raises(ValueError, match="compression"):
        decode_tile({**header, "compression": "lz4"}, payload)


# ----------------------------------------------------------------------------- rendering
STRETCH_CASES = [
    ("linear", None),
    ("sqrt", None),
    ("squared", None),
    ("power", {"a": 2.5}),
    ("powerdist", {"a": 100}),
    ("log", {"a": 1000}),
    ("asinh", {"a": 0.05}),
    ("sinh", {"a": 0.5}),
    ("contrastbias", {"contrast": 1.5, "bias": 0.4}),
    ("histeq", None),
]


def _reference_rgba(values, vmin, vmax, stretch, cmap, nan_color=(0, 0, 0, 0)):
    """astropy interval/stretch classes and a matplotlib colormap, called directly."""
    import matplotlib
    from astropy.visualization import ManualInterval

    x = ManualInterval(vmin, vmax)(values, clip=True)
    y = stretch(np.nan_to_num(x), clip=True)
    rgba = matplotlib.colormaps[cmap](y, bytes=True)
    rgba[np.isnan(values)] = nan_color
    return rgba


@pytest.mark.parametrize(("name", "params"), STRETCH_CASES)
@pytest.mark.parametrize("cmap", ["gray", "viridis", "magma_r"])
def test_render_matches_astropy_and_matplotlib(name, params, cmap):
    values = np.linspace(-20, 120, 20 * 30).reshape(20, 30)
    values[3, 4] = np.nan
    kwargs = dict(params or {})
    if name == "histeq":  # render_rgba equalises on the normalised finite values it is given
        kwargs["data"] = np.clip(values[np.isfinite(values)] / 100.0, 0, 1)
    stretch = STRETCHES[name](**kwargs)
    got = render_rgba(values, 0.0, 100.0, name, cmap, stretch_params=params)
    assert got.dtype == np.uint8 and got.shape == (20, 30, 4)
    np.testing.assert_array_equal(got, _reference_rgba(values, 0.0, 100.0, stretch, cmap))
    # an astropy stretch instance gives the same picture
    np.testing.assert_array_equal(render_rgba(values, 0.0, 100.0, stretch, cmap), got)


def test_render_details():
    values = np.array([[0.0, 1.0, np.nan, 2.0]])
    rgba = render_rgba(values, 1.0, 1.0, nan_color=(1, 2, 3, 4))
    np.testing.assert_array_equal(rgba[0, 2], [1, 2, 3, 4])
    assert (rgba[0, 0] == colormap_lut("gray")[0]).all() and (rgba[0, 3] == colormap_lut("gray")[-1]).all()
    lut = np.zeros((2, 4), np.uint8)
    lut[1] = 255
    np.testing.assert_array_equal(
        render_rgba(np.array([[0.0, 0.49, 0.5, 1.0]]), 0, 1, cmap=lut)[0, :, 0], [0, 0, 255, 255]
    )
    with pytest.raises(ValueError, match="vmin <= vmax"):
        render_rgba(values, 2, 1)
    with pytest.raises(ValueError, match="finite"):
        render_rgba(values, np.nan, 1)
    with pytest.raises(ValueError, match="unknown stretch"):
        render_rgba(values, 0, 1, "cubic")
    with pytest.raises(ValueError, match="unknown colormap"):
        render_rgba(values, 0, 1, cmap="no-such-map")
    with pytest.raises(ValueError, match="stretch_params"):
        render_rgba(values, 0, 1, STRETCHES["log"](), stretch_params={"a": 3})


def test_colormap_luts_match_matplotlib():
    import matplotlib

    for name in ["gray", "viridis", "inferno_r", "coolwarm"]:
        lut = colormap_lut(name)
        assert lut.shape == (256, 4) and lut.dtype == np.uint8 and not lut.flags.writeable
        np.testing.assert_array_equal(lut, matplotlib.colormaps[name](np.arange(256), bytes=True))
    np.testing.assert_array_equal(
        colormap_lut("viridis", 16),
        matplotlib.colormaps["viridis"].resampled(16)(np.arange(16), bytes=True),
    )
    with pytest.raises(ValueError, match="n ≥ 2"):
        colormap_lut("gray", 1)


def test_builtin_colormaps_without_matplotlib(monkeypatch):
    import matplotlib

    from snapscope.tiles import _render

    expected = {name: matplotlib.colormaps[name](np.arange(256), bytes=True) for name in COLORMAPS}
    expected_r = matplotlib.colormaps["magma_r"](np.arange(256), bytes=True)
    expected_8 = matplotlib.colormaps["viridis"].resampled(8)(np.arange(8), bytes=True)
    _render._lut.cache_clear()
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    try:
        for name in COLORMAPS:
            np.testing.assert_array_equal(colormap_lut(name), expected[name])
        np.testing.assert_array_equal(colormap_lut("magma_r"), expected_r)
        np.testing.assert_array_equal(colormap_lut("viridis", 8), expected_8)
        with pytest.raises(ValueError, match="without matplotlib"):
            colormap_lut("coolwarm")
    finally:
        _render._lut.cache_clear()


# ----------------------------------------------------------------------------- cache
def test_cache_bound_and_lru():
    cache = TileCache(10_000)
    for i in range(10):
        cache.put(i, np.zeros(1000, np.uint8))
        assert cache.nbytes <= 10_000
    assert len(cache) == 10
    cache.get(0)  # 0 becomes most recent
    cache.put(10, np.zeros(2500, np.uint8))
    assert 0 in cache and 1 not in cache and 2 not in cache and 3 not in cache and 4 in cache
    assert cache.nbytes == 7 * 1000 + 2500
    cache.put("huge", np.zeros(20_000, np.uint8))  # bigger than the cache: not kept
    assert "huge" not in cache and cache.nbytes <= 10_000
    cache.max_bytes = 3000
    assert cache.nbytes <= 3000 and 10 in cache
    info = cache.info()
    assert info["evictions"] >= 4 and info["max_bytes"] == 3000
    cache.discard(10)
    assert 10 not in cache
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0
    with pytest.raises(ValueError):
        TileCache(-1)


def test_pyramid_respects_cache_bound():
    cache = TileCache(5 * 16 * 16 * 4)  # room for five 16² float32 tiles
    data = noisy((200, 200))
    pyr = TilePyramid(data, tile_size=16, cache=cache)
    for level in range(pyr.n_levels):
        assert_level(pyr, data, None, level)
        assert cache.nbytes <= cache.max_bytes
    assert cache.info()["evictions"] > 0


def test_get_or_compute_single_flight_and_errors():
    cache = TileCache(BIG_CACHE)
    calls = []
    gate = threading.Event()

    def slow():
        calls.append(1)
        gate.wait(5)
        return np.arange(4)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(cache.get_or_compute, "k", slow) for _ in range(8)]
        gate.set()
        results = [f.result() for f in futures]
    assert len(calls) == 1 and all(r is results[0] for r in results)

    def boom():
        raise RuntimeError("nope")

    with pytest.raises(RuntimeError, match="nope"):
        cache.get_or_compute("bad", boom)
    assert "bad" not in cache
    assert cache.get_or_compute("bad", lambda: np.zeros(1)).shape == (1,)  # retried after a failure


def test_concurrent_tiles_from_threads():
    data = noisy((300, 260), seed=4)
    cache = TileCache(BIG_CACHE)
    pyramids = [TilePyramid(data, tile_size=32, cache=cache) for _ in range(2)]  # two "widgets"
    jobs = [
        (p, level, tx, ty)
        for p in pyramids
        for level in range(p.n_levels)
        for ty in range(p.n_tiles(level)[0])
        for tx in range(p.n_tiles(level)[1])
    ]
    jobs = jobs * 3
    np.random.default_rng(0).shuffle(jobs)
    with ThreadPoolExecutor(8) as pool:
        tiles = list(pool.map(lambda j: (j[1:], j[0].tile(*j[1:])), jobs))
    serial = TilePyramid(data, tile_size=32, cache=TileCache(BIG_CACHE))
    for (level, tx, ty), t in tiles:
        np.testing.assert_array_equal(t, serial.tile(level, tx, ty))
    level0 = pyramids[0].n_tiles(0)[0] * pyramids[0].n_tiles(0)[1]
    assert len(cache) == level0 + 1  # shared: level-0 tiles once each, plus one resident entry
    assert cache.info()["misses"] == level0 + 1


def test_default_cache_is_shared():
    assert default_cache() is default_cache()
    a = np.zeros((8, 8), np.float32)
    assert TilePyramid(a)._cache is default_cache()
