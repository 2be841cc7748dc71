"""A simulated SN survey: many exposures of one field, a manifest and the sky catalogue.

Decisions
---------
* **Schedule.** ``mjds × bands`` (epoch-major). Without ``mjds``: the default six epochs when
  ``n_images`` is None, else ``ceil(n_images / len(bands))`` epochs (the pre-explosion template
  at MJD 62420, then evenly spaced over 62460–62560, rise to late decline) cut to ``n_images``.
  With both, the first ``n_images`` of the grid. ``ou2024_pointings`` replays the six real
  OU2024 visits (see ``_pointing``) in each band instead; their dates, SCAs and field are fixed.
* **Seeds.** The scene (stars, galaxies, host) uses the survey seed, so every exposure sees the
  same sky; each exposure's own seed (dither, noise, cosmic rays) is derived from the survey
  seed and its visit number, which depends only on its band and date: changing ``n_images``
  keeps the exposures the two surveys share identical (and skips them on a re-run).
* **Re-runs.** An exposure is skipped when the manifest holds an entry for its file with the same
  parameters (format version included) and its image and truth files exist. The manifest and
  ``sky_catalog.ecsv`` are rewritten only when their content changes, and after every finished
  exposure, so an interrupted run resumes where it stopped. Files of earlier surveys with other
  parameters are left on disk but dropped from the manifest.
* **Parallelism.** ``workers=None`` uses a pool of two ``spawn`` worker processes when the
  exposures to make would take more than about 10 s in one process (e.g. 8 of 1024², 2 of
  4088²), and the calling process otherwise: a worker costs 2–3 s of CPU to start
  (imports and PSFs), more than a small exposure takes. ``spawn`` is safe in Jupyter and in
  threaded programs; as with any multiprocessing, a script must call :func:`make_survey` under
  ``if __name__ == "__main__":``. Results do not depend on which process made them.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import math
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from snapscope._utils._progress import progress as progress_bar
from snapscope.sim._lightcurve import (
    DEFAULT_MJDS,
    EXPLOSION_MJD,
    FITTED,
    SN_DEC,
    SN_ID,
    SN_RA,
    TEMPLATE_MJD,
    bazin_parameters,
)

__all__ = ["Survey", "make_survey", "load_survey", "MANIFEST"]

MANIFEST = "manifest.json"
SKY_CATALOG = "sky_catalog.ecsv"
#: Survey epochs after the template, when only ``n_images`` is given.
_SPREAD = (62460.0, 62560.0)


@dataclass
class Survey:
    """A simulated survey on disk.

    Attributes
    ----------
    path : Path
        The survey directory.
    exposures : list of dict
        Manifest entries (see :func:`snapscope.sim.make_exposure`), ``path`` absolute, in
        schedule order (epoch, then band).
    sn_ra, sn_dec : float
        Position of the supernova (the field centre), degrees.
    manifest_path : Path
        ``path / "manifest.json"``.
    """

    path: Path
    exposures: list[dict[str, Any]]
    sn_ra: float
    sn_dec: float
    manifest_path: Path

    def __len__(self) -> int:
        return len(self.exposures)


def load_survey(outdir: str | Path) -> Survey:
    """Read the ``manifest.json`` of a survey written by :func:`make_survey`.

    Parameters
    ----------
    outdir : str or Path
        The survey directory.

    Raises
    ------
    FileNotFoundError
        When the directory has no manifest.
    """
    path = Path(outdir).resolve()
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"{manifest_path} does not exist: not a snapscope.sim survey "
            "(make one with snapscope.sim.make_survey or `snapscope simulate`)"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return _survey_from_manifest(path, manifest)


def _survey_from_manifest(path: Path, manifest: dict[str, Any]) -> Survey:
    exposures = []
    for entry in manifest["exposures"]:
        entry = dict(entry)
        for key in ("path", "truth_path", "epsf_path"):
            entry[key] = str(path / entry[key])
        exposures.append(entry)
    return Survey(path, exposures, manifest["sn"]["ra"], manifest["sn"]["dec"], path / MANIFEST)


def _epochs(n_epochs: int) -> list[float]:
    spread = np.linspace(*_SPREAD, n_epochs - 1) if n_epochs > 1 else []
    return [TEMPLATE_MJD, *(round(float(m), 3) for m in spread)]


def _exposure_seed(seed: int, pointing: int) -> int:
    return int(np.random.SeedSequence([seed, pointing]).generate_state(1)[0])


def _schedule(*, n_images: int | None, size: int, bands: Sequence[str],
              mjds: Iterable[float] | None, seed: int, host: bool, sca: int, gzip: bool,
              ou2024_pointings: bool, ra: float | None, dec: float | None,
              hosted: Any = ()) -> list[Any]:
    """Return the exposure specs of a survey, in schedule order (epoch, then band)."""
    from snapscope.sim._exposure import make_spec
    from snapscope.sim._pointing import OU2024_VISITS, ou2024_pointing

    bands = [bands] if isinstance(bands, str) else list(bands)
    if not bands:
        raise ValueError("bands must name at least one band")
    for name, value, low in (("n_images", n_images, 1), ("seed", seed, 0)):
        if value is not None and (isinstance(value, bool) or int(value) != value or value < low):
            raise ValueError(f"{name} must be an integer ≥ {low}, not {value!r}")
    common = dict(size=size, seed=0, scene_seed=seed, host=host, sn=True, cr_rate=1.0, gzip=gzip,
                  star_density=None, galaxy_density=None, hosted=hosted)
    if ou2024_pointings:
        if mjds is not None or ra is not None or dec is not None:
            raise ValueError("ou2024_pointings replays real visits: do not give mjds, ra or dec")
        visits = sorted(OU2024_VISITS, key=lambda v: OU2024_VISITS[v].mjd)
        grid = [(visit, band) for visit in visits for band in bands]
    else:
        if mjds is not None:
            epochs = list(mjds)
        elif n_images is None:
            epochs = list(DEFAULT_MJDS)
        else:
            epochs = _epochs(math.ceil(n_images / len(bands)))
        grid = [(mjd, band) for mjd in epochs for band in bands]
    if n_images is not None:
        if n_images > len(grid):
            raise ValueError(f"n_images={n_images} but the schedule has only {len(grid)} exposures")
        grid = grid[:n_images]
    specs = []
    for when, band in grid:
        if ou2024_pointings:
            pointing, number = ou2024_pointing(when, band, size=size, ra=SN_RA, dec=SN_DEC)
            spec = make_spec(band=band, mjd=pointing.mjd, sca=pointing.sca, pointing=number,
                             ra=None, dec=None, pa=pointing.pa_fpa, visit=when, **common)
        else:
            spec = make_spec(band=band, mjd=when, sca=sca, pointing=None, ra=ra, dec=dec, pa=None,
                             **common)
        specs.append(dataclasses.replace(spec, seed=_exposure_seed(seed, spec.pointing)))
    names = [s.filename for s in specs]
    if len(set(names)) != len(names):
        raise ValueError("two exposures of the schedule share a band and date: repeated mjds?")
    return specs


def make_survey(outdir: str | Path, *, n_images: int | None = None, size: int = 512,
                bands: Sequence[str] = ("Y106", "H158"), mjds: Iterable[float] | None = None,
                seed: int = 42, host: bool = True, sca: int = 1, gzip: bool = False,
                ou2024_pointings: bool = False, ra: float | None = None, dec: float | None = None,
                hosted: Sequence[tuple[float, float]] = (), progress: bool = True,
                workers: int | None = None) -> Survey:
    """Simulate a survey of the SN field: exposures, truth tables, ePSFs, manifest, sky catalogue.

    Parameters
    ----------
    outdir : str or Path
        Output directory (created if needed).
    n_images : int, optional
        Number of exposures, spread over ``bands`` (module docstring for the epochs).
    size : int
        Image side, pixels (up to 4088).
    bands : sequence of str
        Roman bands.
    mjds : iterable of float, optional
        Epochs (default: 62420 template, 62462, 62472, 62486, 62510, 62560).
    seed : int
        Survey seed.
    host : bool
        Draw the SN host galaxy.
    sca : int
        Detector of the synthetic exposures (OU2024 visits use their own).
    gzip : bool
        Write ``.fits.gz`` images.
    ou2024_pointings : bool
        Replay six real OU2024 visits (boresight, roll, SCA, date) instead of synthetic ones.
    ra, dec : float, optional
        Field centre, where the SN sits (default: the OU2024 SN position).
    hosted : sequence of (float, float)
        Extra supernovae on bright hosts, one per ``(host Y106 AB magnitude, SN offset from the
        host centre in arcsec)`` pair, on a 5″ ring around the field centre, with the SN's light
        curve (``snapscope.sim._catalog``); each exposure's manifest entry lists them under
        ``hosted`` and the manifest's ``sn`` section under ``hosted``.
    progress : bool
        Show a progress bar.
    workers : int, optional
        Worker processes (1: none); default two when that is faster (module docstring).

    Returns
    -------
    Survey
        The survey (also readable later with :func:`load_survey`).
    """
    from snapscope.sim._exposure import exposure_cells, simulate

    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    specs = _schedule(n_images=n_images, size=size, bands=bands, mjds=mjds, seed=seed, host=host,
                      sca=sca, gzip=gzip, ou2024_pointings=ou2024_pointings, ra=ra, dec=dec,
                      hosted=hosted)
    previous = _previous_entries(outdir)
    entries: dict[str, dict[str, Any]] = {}
    todo = []
    for spec in specs:
        old = previous.get(spec.filename)
        files = ("path", "truth_path", "epsf_path")
        if (old is not None and old.get("params") == spec.params()
                and all((outdir / old[key]).exists() for key in files)):
            entries[spec.filename] = old
        else:
            todo.append(spec)

    def finish(entry: dict[str, Any]) -> None:
        entries[Path(entry["path"]).name] = _relative(entry, outdir)
        _write_manifest(outdir, specs, entries)

    if workers is None:
        workers = 2 if _serial_seconds(len(todo), size) > 10.0 else 1
    workers = min(int(workers), os.cpu_count() or 1, len(todo))
    if workers > 1:
        context = multiprocessing.get_context("spawn")
        try:
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
                futures = [pool.submit(simulate, spec, outdir) for spec in todo]
                done = concurrent.futures.as_completed(futures)
                for future in progress_bar(done, desc="simulating", total=len(futures),
                                           enabled=progress):
                    finish(future.result())
        except concurrent.futures.process.BrokenProcessPool as err:
            raise RuntimeError(
                "a simulator worker process died. From a script, call make_survey under "
                "`if __name__ == '__main__':` (worker processes re-import the main module), or "
                "pass workers=1; exposures finished so far are kept") from err
    else:
        for spec in progress_bar(todo, desc="simulating", enabled=progress and bool(todo)):
            finish(simulate(spec, outdir))
    _write_manifest(outdir, specs, entries)
    _write_sky_catalog(outdir, specs, exposure_cells)
    return load_survey(outdir)


def _serial_seconds(n: int, size: int) -> float:
    """Rough CPU time of ``n`` exposures of ``size``² (2-core test machine, see the timings)."""
    return n * (0.2 + 18.0 * (size / 4088) ** 2)


def _relative(entry: dict[str, Any], outdir: Path) -> dict[str, Any]:
    entry = dict(entry)
    for key in ("path", "truth_path", "epsf_path"):
        entry[key] = os.path.relpath(entry[key], outdir)
    return entry


def _previous_entries(outdir: Path) -> dict[str, dict[str, Any]]:
    try:
        manifest = json.loads((outdir / MANIFEST).read_text(encoding="utf-8"))
        return {Path(e["path"]).name: e for e in manifest["exposures"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _write_manifest(outdir: Path, specs: list[Any], entries: dict[str, dict[str, Any]]) -> None:
    from snapscope.sim._write import write_json_if_changed

    field = specs[0]
    manifest = {
        "format": 1,
        "generator": "snapscope.sim",
        "seed": field.scene_seed,
        "sky_catalog": SKY_CATALOG,
        "sn": {
            "id": SN_ID, "ra": field.ra, "dec": field.dec, "explosion_mjd": EXPLOSION_MJD,
            "lightcurves": {
                band: {**bazin_parameters(band)._asdict(), "fitted": band in FITTED}
                for band in sorted({s.band for s in specs})
            },
        },
        "exposures": [entries[s.filename] for s in specs if s.filename in entries],
    }
    if field.hosted:
        from snapscope.sim._catalog import HOSTED_SN_ID, hosted_positions

        ras, decs = hosted_positions(field.ra, field.dec, len(field.hosted))
        manifest["sn"]["hosted"] = [
            {"id": HOSTED_SN_ID + k, "ra": float(ras[k]), "dec": float(decs[k]),
             "host_mag": mag, "host_offset": offset}
            for k, (mag, offset) in enumerate(field.hosted)]
    write_json_if_changed(outdir / MANIFEST, manifest)


def _write_sky_catalog(outdir: Path, specs: list[Any], exposure_cells: Any) -> None:
    """Write every source of the cells any exposure drew from, with its magnitude per band."""
    from astropy.table import Table

    from snapscope.sim._catalog import KINDS, Catalog
    from snapscope.sim._write import write_table

    cells = sorted({cell for spec in specs for cell in exposure_cells(spec)})
    scene = specs[0].scene()
    parts = [scene.sources(cells)] + ([scene.host()] if specs[0].host else [])
    parts += [scene.hosted(specs[0].hosted)] if specs[0].hosted else []
    cat = Catalog.concatenate(parts)
    table = Table({"object_id": cat.object_id, "ra": cat.ra, "dec": cat.dec,
                   "obj_type": np.array([KINDS[k] for k in cat.kind], dtype=str)})
    for band in sorted({s.band for s in specs}):
        table[f"mag_{band}"] = cat.magnitude(band)
    for name, values in (("hlr", cat.hlr), ("bulge_fraction", cat.bulge), ("q", cat.q),
                         ("beta", cat.beta)):
        table[name] = values
    table["ra"].unit = table["dec"].unit = table["beta"].unit = "deg"
    table["hlr"].unit = "arcsec"
    table["hlr"].description = "disk half-light radius (0 for stars); bulge: half of it"
    table.meta.update({"field_ra": scene.ra, "field_dec": scene.dec, "seed": scene.seed,
                       "star_density_per_deg2": scene.star_density,
                       "galaxy_density_per_deg2": scene.galaxy_density})
    write_table(outdir / SKY_CATALOG, table)
