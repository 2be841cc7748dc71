"""``snapscope simulate``: make a simulated Roman SN survey from the command line.

GalSim is imported only when the command runs, so ``snapscope --help`` works without it.
"""

from __future__ import annotations

import argparse
import time

from snapscope.roman import BANDS

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``simulate`` on the ``snapscope`` sub-command parser."""
    parser = subparsers.add_parser(
        "simulate",
        help="simulate Roman SN-survey images (OU2024 layout) into a directory",
        description="Simulate a Roman supernova survey with GalSim: OU2024-style SCI/ERR/DQ FITS "
        "images, truth tables, ePSFs, manifest.json and sky_catalog.ecsv. Exposures "
        "already made with the same parameters are skipped.",
    )
    parser.add_argument("outdir", metavar="OUTDIR", help="output directory")
    parser.add_argument(
        "--images",
        "-n",
        type=int,
        default=None,
        metavar="N",
        help="number of exposures, spread over the bands (default: every band at every epoch)",
    )
    parser.add_argument(
        "--size",
        "-s",
        type=int,
        default=512,
        metavar="S",
        help="image side in pixels, up to 4088 (default 512)",
    )
    parser.add_argument(
        "--bands",
        nargs="+",
        default=["Y106", "H158"],
        choices=BANDS,
        metavar="BAND",
        help="Roman bands (default Y106 H158)",
    )
    parser.add_argument(
        "--mjds",
        nargs="+",
        type=float,
        default=None,
        metavar="MJD",
        help="epochs (default 62420 62462 62472 62486 62510 62560)",
    )
    parser.add_argument("--seed", type=int, default=42, help="survey seed (default 42)")
    parser.add_argument("--sca", type=int, default=1, help="detector 1-18 (default 1)")
    parser.add_argument("--gzip", action="store_true", help="write .fits.gz images")
    parser.add_argument(
        "--no-host", dest="host", action="store_false", help="no host galaxy under the SN"
    )
    parser.add_argument(
        "--ou2024-pointings",
        action="store_true",
        help="replay six real OU2024 visits (boresight, roll, SCA, date)",
    )
    parser.add_argument("--ra", type=float, default=None, help="field centre RA in degrees")
    parser.add_argument("--dec", type=float, default=None, help="field centre Dec in degrees")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``snapscope simulate``; return the exit code."""
    from snapscope._utils._optional import require

    require("galsim", purpose="snapscope simulate")
    from snapscope.sim import make_survey

    start = time.perf_counter()
    survey = make_survey(
        args.outdir,
        n_images=args.images,
        size=args.size,
        bands=args.bands,
        mjds=args.mjds,
        seed=args.seed,
        host=args.host,
        sca=args.sca,
        gzip=args.gzip,
        ou2024_pointings=args.ou2024_pointings,
        ra=args.ra,
        dec=args.dec,
        progress=not args.quiet,
    )
    if not args.quiet:
        print(
            f"{len(survey)} exposures of {args.size}² in {survey.path} "
            f"({time.perf_counter() - start:.1f} s); manifest: {survey.manifest_path}"
        )
    return 0
