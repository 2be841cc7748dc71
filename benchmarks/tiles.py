"""Tile pyramid speed and memory, beside the "send the whole array" and naive-``nanmean`` anchors.

Run: ``python benchmarks/tiles.py [--size 4088] [--mosaic 20000] [--repeat 5] [--no-mosaic]``.
Prints figures and ratios, asserts nothing. Targets (``ARCHITECTURE.md``): kernel time
``load_image`` → first (overview) tile encoded ≤ 150 ms for a 4088² float32 FITS on disk; p95
per full-resolution 512² tile ≤ 40 ms; a 20k × 20k memory-mapped mosaic: first picture ≤ 1 s and
kernel memory growth ≤ 300 MB.

* A 4088² OU2024-layout FITS (SCI float32 with stars and a few NaN, ERR, DQ int32) is written
  once into ``benchmarks/_data/`` (git-ignored). "warm" = file in the page cache, "cold" =
  evicted first with ``posix_fadvise(DONTNEED)``.
* Anchors in the same run: astrowidgets-bqplot-style "send the whole array"
  (``np.asarray(data, float32).tobytes()``), a naive overview (``np.nanmean`` of a reshape),
  and a ginga-style kernel-rendered PNG of one 512² view (section + asinh + colormap + PNG).
* The 20k × 20k float32 mosaic (1.6 GB) is a raw ``np.memmap`` in a temporary file under
  ``benchmarks/_data/``; each measurement runs in a fresh child process, so resident-set growth
  (``/proc/self/status``: VmRSS, and VmHWM after resetting it) is the measurement's own.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "_data"


# ----------------------------------------------------------------------------- helpers
def status() -> dict[str, int]:
    """VmRSS, VmHWM, RssAnon, RssFile of this process, in bytes."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, value = line.split(":", 1)
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) * 1024
    return out


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def evict(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.1f} ms"


def mb(n: float) -> str:
    return f"{n / 1e6:8.2f} MB"


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(values, p))


def header_bytes(header: dict) -> int:
    return len(json.dumps(header, separators=(",", ":")))


# ----------------------------------------------------------------------------- 4088² FITS
def make_fits(size: int) -> Path:
    """Write (once) an OU2024-layout FITS: SCI float32 (sky, stars, a few NaN), ERR, DQ int32."""
    from astropy.io import fits

    DATA.mkdir(exist_ok=True)
    path = DATA / f"tiles_ou2024_{size}.fits"
    if path.exists():
        return path
    rng = np.random.default_rng(0)
    sci = rng.normal(138.0, 15.0, (size, size)).astype("f4")
    ys, xs = rng.integers(5, size - 5, (2, 4 * size))
    sci[ys, xs] += rng.uniform(100, 50000, 4 * size).astype("f4")
    sci[rng.integers(0, size, 200), rng.integers(0, size, 200)] = np.nan
    dq = ((rng.random((size, size)) < 0.003) * 4).astype("i4")
    tmp = path.with_suffix(".part")
    fits.HDUList(
        [
            fits.PrimaryHDU(),
            fits.ImageHDU(sci, name="SCI"),
            fits.ImageHDU(np.full((size, size), 15.0, "f4"), name="ERR"),
            fits.ImageHDU(dq, name="DQ"),
        ]
    ).writeto(tmp, overwrite=True)
    os.replace(tmp, path)
    return path


def open_image(path: Path):
    from snapscope.image import FITSImage

    return FITSImage(full_filepath=path, imagehdu=1, noisehdu=2, flagshdu=3)


def first_tile(path: Path, mask, max_size=None) -> dict[str, float]:
    """``load_image`` → overview encoded as float16, with a fresh cache; stage times in s."""
    from snapscope.tiles import TileCache, TilePyramid, encode_tile

    t0 = time.perf_counter()
    image = open_image(path)
    pyr = TilePyramid(image, mask=mask, cache=TileCache(192 * 2**20))
    t1 = time.perf_counter()
    overview = pyr.overview(max_size)
    t2 = time.perf_counter()
    pyr.default_cuts()
    header, payload = encode_tile(overview, "float16")
    t3 = time.perf_counter()
    return {
        "open": t1 - t0,
        "overview": t2 - t1,
        "cuts+encode": t3 - t2,
        "total": t3 - t0,
        "bytes": len(payload) + header_bytes(header),
        "shape": overview.shape,
    }


def anchor_whole_array(path: Path) -> tuple[float, int]:
    from astropy.io import fits

    t0 = time.perf_counter()
    with fits.open(path, memmap=True) as hdul:
        payload = np.asarray(hdul[1].data, dtype=np.float32).tobytes()
    return time.perf_counter() - t0, len(payload)


def anchor_nanmean(path: Path, f: int) -> float:
    from astropy.io import fits

    t0 = time.perf_counter()
    with fits.open(path, memmap=True) as hdul:
        data = hdul[1].data
        n = data.shape[0] // f * f
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            np.nanmean(data[:n, :n].reshape(n // f, f, n // f, f), axis=(1, 3))
    return time.perf_counter() - t0


def anchor_png_view(path: Path, y0: int, x0: int) -> tuple[float, int]:
    """ginga-style: the kernel renders each view: section, asinh stretch, colormap, PNG."""
    from astropy.io import fits
    from astropy.visualization import AsinhStretch, PercentileInterval
    from PIL import Image as PILImage

    from snapscope.tiles import colormap_lut

    t0 = time.perf_counter()
    with fits.open(path, memmap=True) as hdul:
        section = np.asarray(hdul[1].data[y0 : y0 + 512, x0 : x0 + 512], dtype=np.float32)
    x = AsinhStretch()(PercentileInterval(99.5)(section), clip=True)
    rgba = colormap_lut("gray")[np.minimum((np.nan_to_num(x) * 256).astype(int), 255)]
    buf = io.BytesIO()
    PILImage.fromarray(rgba[::-1]).save(buf, format="PNG")
    return time.perf_counter() - t0, buf.tell()


def bench_fits(size: int, repeat: int) -> None:
    from snapscope.tiles import TileCache, TilePyramid, encode_tile

    path = make_fits(size)
    print(f"\n== {size}² float32 FITS ({path.stat().st_size / 2**20:.0f} MiB, OU2024 layout) ==")
    top = TilePyramid(np.zeros((size, size), np.float32)).top_level
    print("load_image → overview tile encoded (float16), median of", repeat, "runs:")
    rows = []
    for cache_state in ("warm", "cold"):
        for label, mask, max_size in [
            ("flags mask", None, None),
            ("no mask", 0, None),
            ("flags mask, overview(256)", None, 256),
        ]:
            runs = []
            for _ in range(repeat):
                if cache_state == "cold":
                    evict(path)
                else:
                    first_tile(path, mask, max_size)  # warm the page cache
                runs.append(first_tile(path, mask, max_size))
            med = {
                k: statistics.median(r[k] for r in runs)
                for k in ("open", "overview", "cuts+encode", "total")
            }
            rows.append((cache_state, label, med["total"]))
            print(
                f"  {cache_state:4} {label:27} total {ms(med['total'])}  (open {ms(med['open'])}, "
                f"overview {ms(med['overview'])}, cuts+encode {ms(med['cuts+encode'])})  "
                f"{runs[0]['shape'][0]}×{runs[0]['shape'][1]}, {runs[0]['bytes'] / 1e3:.0f} kB"
            )
    for cache_state in ("warm", "cold"):
        whole, naive = [], []
        for _ in range(repeat):
            if cache_state == "cold":
                evict(path)
            whole.append(anchor_whole_array(path)[0])
            if cache_state == "cold":
                evict(path)
            naive.append(anchor_nanmean(path, 2**top))
        nbytes = anchor_whole_array(path)[1]
        ours = next(t for s, label, t in rows if s == cache_state and label == "flags mask")
        print(
            f"  {cache_state:4} anchor: whole array (bqplot)    {ms(statistics.median(whole))}, "
            f"{mb(nbytes)}  → snapscope {statistics.median(whole) / ours:5.1f}× faster"
        )
        print(
            f"  {cache_state:4} anchor: nanmean reshape ({2**top}×)  {ms(statistics.median(naive))}"
            f"            → snapscope {statistics.median(naive) / ours:5.1f}× faster"
        )

    print(f"per-tile kernel time after the overview (tile() + encode float16), levels 0..{top}:")
    image = open_image(path)
    for cache_state in ("warm", "cold"):
        pyr = TilePyramid(image, cache=TileCache(192 * 2**20))
        pyr.overview()
        if cache_state == "cold":
            evict(path)
        for level in range(pyr.n_levels) if cache_state == "warm" else [0]:
            nty, ntx = pyr.n_tiles(level)
            times, enc = [], []
            for ty in range(nty):
                for tx in range(ntx):
                    t0 = time.perf_counter()
                    tile = pyr.tile(level, tx, ty)
                    t1 = time.perf_counter()
                    encode_tile(tile, "float16")
                    t2 = time.perf_counter()
                    times.append(t2 - t0)
                    enc.append(t2 - t1)
            print(
                f"  {cache_state:4} level {level}: {len(times):3} tiles  p50 {ms(pct(times, 50))}  "
                f"p95 {ms(pct(times, 95))}  max {ms(max(times))}  (encode p50 {ms(pct(enc, 50))})"
            )
    pngs = [anchor_png_view(path, 512 * i, 512 * (i + 1)) for i in range(6)]
    t_png = [t for t, _ in pngs]
    print(
        f"  warm anchor: kernel-rendered 512² PNG view (ginga-style)  p50 {ms(pct(t_png, 50))}  "
        f"p95 {ms(pct(t_png, 95))}, {pngs[0][1] / 1e3:.0f} kB per view"
    )
    tile = TilePyramid(image, cache=TileCache(192 * 2**20)).tile(0, 1, 1)
    for dtype in ("float16", "float32"):
        header, payload = encode_tile(tile, dtype)
        print(
            f"  bytes per 512² tile, {dtype}: {len(payload):,} payload"
            f" + {header_bytes(header)} header"
        )


# ----------------------------------------------------------------------------- 20k² mosaic
def make_mosaic(path: Path, n: int) -> None:
    """Raw float32 sky + a gradient + a NaN stripe, written in blocks (never mapped whole)."""
    rng = np.random.default_rng(1)
    with open(path, "wb") as f:
        for r0 in range(0, n, 500):
            r1 = min(n, r0 + 500)
            block = rng.normal(100.0, 5.0, (r1 - r0, n)).astype(np.float32)
            block += np.linspace(0, 50, n, dtype=np.float32)
            if r0 <= n // 3 < r1:
                block[n // 3 - r0, :] = np.nan
            f.write(block.tobytes())


def child(kind: str, path: str, n: int, cold: bool) -> dict:
    """One mosaic measurement in this (fresh) process; returns times (s) and memory (bytes)."""
    if cold:
        evict(Path(path))
    from snapscope.tiles import TileCache, TilePyramid, encode_tile

    mm = np.memmap(path, dtype=np.float32, mode="r", shape=(n, n))
    base = status()
    reset_peak()
    out: dict = {}
    t0 = time.perf_counter()
    if kind == "snapscope":
        pyr = TilePyramid(mm, cache=TileCache(192 * 2**20))
        ta = time.perf_counter()
        prev = pyr.preview()
        encode_tile(prev)
        tb = time.perf_counter()
        header, payload = encode_tile(pyr.overview())
        tc = time.perf_counter()
        out.update(
            preview=tb - ta,
            overview=tc - tb,
            first_exact=tc - t0,
            bytes=len(payload),
            top=pyr.top_level,
            resident=pyr._resident,
        )
        after_overview = status()
        times = {}
        for level in range(pyr.n_levels):
            nty, ntx = pyr.n_tiles(level)
            picks = [(ntx // 2 + d, nty // 2) for d in range(-2, 3) if 0 <= ntx // 2 + d < ntx]
            lt = []
            for tx, ty in picks:
                t = time.perf_counter()
                encode_tile(pyr.tile(level, tx, ty))
                lt.append(time.perf_counter() - t)
            times[level] = (statistics.median(lt), max(lt))
        out["tiles"] = times
        out["rss_after_overview"] = after_overview["VmRSS"] - base["VmRSS"]
    elif kind == "whole":
        payload = np.asarray(mm, dtype=np.float32).tobytes()
        out.update(first_exact=time.perf_counter() - t0, bytes=len(payload))
        del payload
    elif kind == "nanmean":
        f = 64
        k = n // f * f
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            np.nanmean(mm[:k, :k].reshape(k // f, f, k // f, f), axis=(1, 3))
        out.update(first_exact=time.perf_counter() - t0)
    end = status()
    out.update(
        rss_growth=end["VmRSS"] - base["VmRSS"],
        peak_growth=end["VmHWM"] - base["VmRSS"],
        anon_growth=end["RssAnon"] - base["RssAnon"],
    )
    return out


def run_child(kind: str, path: Path, n: int, cold: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, str(path), str(n), "1" if cold else "0"]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def bench_mosaic(n: int, repeat: int) -> None:
    DATA.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        path = Path(tmp) / f"mosaic_{n}.f32"
        t0 = time.perf_counter()
        make_mosaic(path, n)
        print(
            f"\n== {n}×{n} float32 memory-mapped mosaic ({path.stat().st_size / 1e9:.2f} GB, "
            f"written in {time.perf_counter() - t0:.1f} s) =="
        )
        for cold in (False, True):
            state = "cold" if cold else "warm"
            runs = [run_child("snapscope", path, n, cold) for _ in range(repeat)]
            r = runs[0]
            med = {
                k: statistics.median(x[k] for x in runs)
                for k in (
                    "preview",
                    "overview",
                    "first_exact",
                    "rss_growth",
                    "peak_growth",
                    "anon_growth",
                    "rss_after_overview",
                )
            }
            print(
                f"  {state} snapscope (median of {repeat}, each a fresh process): "
                f"top level {r['top']}, resident levels {r['resident']}.."
            )
            print(
                f"    preview (sampled) {ms(med['preview'])}   "
                f"exact overview {ms(med['overview'])}   "
                f"construct→exact overview {ms(med['first_exact'])}  "
                f"({r['bytes'] / 1e3:.0f} kB float16)"
            )
            print(
                f"    memory growth after overview: VmRSS {mb(med['rss_after_overview'])};  "
                f"after a tile per level as well: VmRSS {mb(med['rss_growth'])}, "
                f"peak {mb(med['peak_growth'])}, "
                f"anon {mb(med['anon_growth'])}"
            )
            tiles = "  ".join(
                f"L{k}: {float(v[0]) * 1e3:.1f}/{float(v[1]) * 1e3:.1f}"
                for k, v in r["tiles"].items()
            )
            print(f"    tiles near the centre, median/max ms: {tiles}")
            for kind, label in [
                ("whole", "whole array (bqplot)"),
                ("nanmean", "nanmean reshape (64×)"),
            ]:
                a = run_child(kind, path, n, cold)
                print(
                    f"    anchor {label:22} {ms(a['first_exact'])}  VmRSS {mb(a['rss_growth'])}, "
                    f"peak {mb(a['peak_growth'])}"
                    + (f", {mb(a['bytes'])} sent" if "bytes" in a else "")
                    + f"  → snapscope exact {a['first_exact'] / med['first_exact']:.1f}× faster, "
                    f"peak memory {a['peak_growth'] / max(med['peak_growth'], 1):.0f}× smaller"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=4088)
    parser.add_argument("--mosaic", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-mosaic", action="store_true")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, n, cold = args.child
        print(json.dumps(child(kind, path, int(n), cold == "1")))
        return
    with open("/proc/loadavg") as f:
        print(f"{os.cpu_count()} cores, load average {f.read().split()[0]} at start")
    bench_fits(args.size, args.repeat)
    if not args.no_mosaic:
        bench_mosaic(args.mosaic, max(1, args.repeat // 2))
    with open("/proc/loadavg") as f:
        print(f"load average {f.read().split()[0]} at end")


if __name__ == "__main__":
    main()
