"""Difference photometry: one position × 100 epochs, reference from 10, 65² stamps.

Run: ``python benchmarks/difference.py [--size 512] [--runs 3]``. Prints timings and ratios
against a plain loop, measured in the same run, that does the same per-epoch work with astropy
(``Cutout2D``, ``convolve``), ``reproject_adaptive`` and photutils (``aperture_photometry``,
``PSFPhotometry``) called directly on snapscope's reference. Targets (issue 13): difference
photometry (reference of 10 epochs + 100 differences, aperture and PSF) ≤ 3 s on first open;
the difference stamp of one new epoch ≤ 50 ms. No asserts.

Data: ``snapscope.sim`` makes 100 Y106 exposures (10 before the explosion, then 90 daily ones)
with one supernova on a Y106 = 19.5 host, into a temporary directory removed at the end
(nothing is written into the repository). Difference imaging reads stamps only, so the image
side (``--size``, default 512² to keep the simulation to ~1 min) changes only the page-cache
footprint, not the work per epoch. "First open" = the process's file cache is emptied before
each run (headers and WCS parsed again, as in a new kernel); the files stay in the page cache.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from batch import line, median_of, plain_stamps, timed  # noqa: E402  (benchmarks/batch.py)

TEMPLATES = tuple(62350.0 + 10.0 * k for k in range(10))
EPOCHS = tuple(62451.0 + k for k in range(90))
EXPLOSION = 62450.0
STAMP, HALF = 65, 5


def plain_difference_photometry(paths: list[Path], ra: float, dec: float, ref, psf) -> list:
    """The per-epoch work of ``difference_photometry`` with astropy, reproject and photutils
    (the science side convolved, as snapscope chooses on these images)."""
    from astropy.convolution import convolve
    from astropy.io import fits
    from astropy.table import Table
    from photutils.aperture import CircularAperture, aperture_photometry
    from photutils.background import LocalBackground, MMMBackground
    from photutils.psf import ImagePSF, PSFPhotometry
    from reproject import reproject_adaptive

    from snapscope.diff import match_kernel

    ref_wcs = ref.image.get_wcs().get_astropy_wcs()
    work = STAMP + 2 * HALF
    out = []
    for path, (sci, err, dq) in zip(paths, plain_stamps(paths, ra, dec, work), strict=True):
        zp = fits.getval(path, "ZP_AB", extname="SCI")
        on = reproject_adaptive((np.stack([ref.image.data, ref.psf]), ref_wcs), sci.wcs,
                                shape_out=(work, work), conserve_flux=True,
                                return_footprint=False, roundtrip_coords=False)
        x, y = sci.wcs.world_to_pixel_values(ra, dec)
        psf_sci = np.zeros((work, work))
        stamp = psf.get_stamp(x + sci.origin_original[0], y + sci.origin_original[1])
        h, k = work // 2, stamp.shape[0] // 2
        psf_sci[:, :] = stamp[k - h : k + h + 1, k - h : k + h + 1]
        kernel, _ = match_kernel(psf_sci, on[1], HALF)
        bad = dq.data != 0
        data = np.where(bad, np.median(sci.data[~bad]), sci.data)
        scale = 10 ** (0.4 * (zp - ref.image.zeropoint))
        diff = convolve(data, kernel, normalize_kernel=False) - np.nan_to_num(on[0]) * scale
        var = convolve(np.where(bad, 0, err.data) ** 2, kernel, normalize_kernel=False)
        diff, var, bad = (a[HALF:-HALF, HALF:-HALF] for a in (diff, var, bad))
        diff = diff - np.median(diff[~bad])
        xs, ys = x - HALF, y - HALF
        ap = aperture_photometry(diff, CircularAperture((xs, ys), 3.0), error=np.sqrt(var),
                                 mask=bad, method="exact")
        model = ImagePSF(on[1][HALF:-HALF, HALF:-HALF], x_0=xs, y_0=ys, origin=(xs, ys))
        model.x_0.fixed = model.y_0.fixed = True
        fit = PSFPhotometry(model, (5, 5), local_bkg_estimator=LocalBackground(
            15, 25, bkg_estimator=MMMBackground()))(diff, error=np.sqrt(var), mask=bad,
                                      init_params=Table({"x": [xs], "y": [ys],
                                                         "flux_init": [1000.0]}))
        out.append((ap, fit))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="image side (default 512)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args()

    from snapscope import batch, diff
    from snapscope.image import OpenUniverse2024FITSImage
    from snapscope.image._fitscache import clear_open_files
    from snapscope.psf import PSF
    from snapscope.sim import make_survey

    with tempfile.TemporaryDirectory(prefix="snapscope-diff-bench-") as tmp:
        t_data, survey = timed(make_survey, tmp, size=args.size, bands=("Y106",),
                               mjds=TEMPLATES + EPOCHS, seed=3, host=False, hosted=[(19.5, 0.4)],
                               progress=False)
        paths = [Path(e["path"]) for e in survey.exposures]
        sn = survey.exposures[0]["hosted"][0]
        pos = (sn["ra"], sn["dec"])
        psf = PSF.get_psf_object("OversampledImagePSF", psffile=Path(tmp) / "epsf_Y106_1.fits")
        print(f"data: {len(paths)} Y106 images of {args.size}² simulated in {t_data:.0f} s "
              f"({len(TEMPLATES)} before the explosion), {os.cpu_count()} CPUs, "
              f"median of {args.runs} runs per figure\n")

        def fresh(files: list[Path]) -> list:
            return [OpenUniverse2024FITSImage(full_filepath=p) for p in files]

        def photometry(files: list[Path], workers: int | None = None):
            return batch.difference_photometry(fresh(files), pos, psf=psf, before=EXPLOSION,
                                               workers=workers, progress=False)

        photometry(paths[:12])  # imports (reproject, photutils, scipy): not part of any figure
        ref = diff.build_reference(fresh(paths), pos, psf, before=EXPLOSION)
        plain_difference_photometry(paths[10:12], *pos, ref, psf)

        t_plain = median_of(args.runs, plain_difference_photometry, paths, *pos, ref, psf)
        line(f"plain loop: {len(paths)} differences + aperture + PSF (no reference)", t_plain)
        t = median_of(args.runs, photometry, paths, before=clear_open_files)
        line(f"batch.difference_photometry, first open ({diff.default_workers()} threads)", t, 3.0,
             t_plain, "(reference of 10 + 100 epochs)")
        t = median_of(args.runs, photometry, paths)
        line("batch.difference_photometry, new objects", t, None, t_plain)
        t = median_of(args.runs, photometry, paths, workers=1, before=clear_open_files)
        line("batch.difference_photometry, workers=1 (calling thread), first open", t, 3.0,
             t_plain)
        t = median_of(args.runs, lambda: diff.build_reference(fresh(paths), pos, psf,
                                                              before=EXPLOSION),
                      before=clear_open_files)
        line("diff.build_reference (10 epochs), first open", t)
        t = median_of(args.runs, lambda: batch.forced_photometry(fresh(paths), pos, psf=psf,
                                                                 progress=False),
                      before=clear_open_files)
        line("batch.forced_photometry (no subtraction), first open", t)
        t = median_of(args.runs, lambda: diff.differences(fresh(paths), ref, psf, progress=False),
                      before=clear_open_files)
        line("diff.differences (100 stamps, no photometry), first open", t)
        t = median_of(max(args.runs, 10), lambda: diff.difference(fresh(paths[-1:])[0], ref, psf),
                      before=clear_open_files)
        line("diff.difference of one new epoch, first open", t, 0.05)
        t = median_of(max(args.runs, 10), lambda: diff.difference(fresh(paths[-1:])[0], ref, psf))
        line("diff.difference of one new epoch, new object", t, 0.05)


if __name__ == "__main__":
    main()
