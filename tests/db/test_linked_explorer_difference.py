"""Explorer with ``reference_before``: per-band references, difference photometry in the table
and the light curve, the direct | difference switch in the state; against the real catalogue."""

from __future__ import annotations

import json

import numpy as np
import pytest

from snapscope import batch

pytestmark = pytest.mark.db
pytest.importorskip("reproject")

#: Y106 has two epochs before the explosion, H158 none (its reference cannot be built).
Y106_MJDS, H158_MJDS, BEFORE = (62400.0, 62420.0, 62460.0, 62480.0), (62460.0, 62480.0), 62450.0


@pytest.fixture(scope="module")
def split_survey(tmp_path_factory):
    """A supernova on a host: Y106 from before the explosion, H158 only after (read-only)."""
    sim = pytest.importorskip("snapscope.sim")
    root = tmp_path_factory.mktemp("split-survey")
    common = dict(size=256, seed=5, host=False, hosted=[(20.0, 0.3)], progress=False)
    return [sim.make_survey(root / band, bands=(band,), mjds=mjds, **common)
            for band, mjds in (("Y106", Y106_MJDS), ("H158", H158_MJDS))]


@pytest.fixture
def setup(db_dsn, split_survey):
    """(position, PSFs, the db DSN) with both surveys ingested."""
    from snapscope.db._ingest import ingest
    from snapscope.psf import PSF

    ingest([e["path"] for s in split_survey for e in s.exposures], "sim", "import",
           image_class="ou2024", dbclient=db_dsn, progress=False)
    psf = {s.exposures[0]["band"]: PSF.get_psf_object(
        "OversampledImagePSF", psffile=s.path / f"epsf_{s.exposures[0]['band']}_1.fits")
        for s in split_survey}
    sn = [s.exposures[0]["hosted"][0] for s in split_survey]
    assert (sn[0]["ra"], sn[0]["dec"]) == (sn[1]["ra"], sn[1]["dec"])
    return (sn[0]["ra"], sn[0]["dec"]), psf, db_dsn


def _explore(setup, **kwargs):
    from snapscope.widgets import explore

    position, psf, dsn = setup
    return explore(f"{position[0]} {position[1]}", dbclient=dsn, psf=psf,
                   provenance=("sim", "import"), **kwargs)


def test_references_are_built_per_band_and_the_table_is_the_difference_photometry(setup):
    from snapscope.diff import build_reference

    explorer = _explore(setup, reference_before=BEFORE)
    position, psf, _ = setup
    assert len(explorer.images) == 6 and set(explorer.references) == {"Y106"}
    y106 = [im for im in explorer.images if im.band == "Y106"]
    direct_ref = build_reference(explorer.images, position, psf, band="Y106", before=BEFORE)
    np.testing.assert_array_equal(explorer.references["Y106"].image.data, direct_ref.image.data)
    assert explorer.references["Y106"].inputs == [batch.image_key(im) for im in y106[:2]]
    assert "references before MJD 62450: Y106 (2 images)" in explorer.status.value
    assert "H158: no epoch before MJD 62450, direct photometry only" in explorer.status.value
    table = explorer.photometry.table
    assert explorer.photometry.mode.value == "difference" and not explorer.photometry.mode.disabled
    assert "no reference for H158 (2 images)" in explorer.photometry.status.value
    expected = batch.difference_photometry(y106, position, explorer.references, psf=psf,
                                           progress=False)
    for name in batch.DIFFERENCE_COLUMNS:
        np.testing.assert_array_equal(table[name], expected[name])
    lc = explorer.lightcurve
    assert lc.table is table and lc.position.disabled
    lc.quantity.value = "mag"
    scatter, rows = lc.limits["Y106"]
    assert np.all(table["mjd"][rows] < BEFORE)  # no supernova yet: limits
    scatter._handle_custom_msgs(None, {"event": "hover", "data": {"index": 0}}, [])
    assert explorer.photometry.highlighted == rows[0]
    assert explorer.cutouts.highlighted_key == table["image_id"][rows[0]]
    grid = explorer.cutouts  # the same references give the science / reference / difference rows
    assert grid.reference is explorer.references and grid.view.value == "triplets"
    made = {batch.image_key(im) for im, d in zip(grid.images, grid.differences, strict=True) if d}
    assert made == {batch.image_key(im) for im in y106}


def test_direct_difference_choice_and_reference_before_survive_a_round_trip(setup):
    from snapscope.widgets import Explorer

    explorer = _explore(setup, reference_before=BEFORE)
    explorer.photometry.mode.value = "direct"  # re-measures
    assert "position" in explorer.photometry.table.colnames
    explorer.go(explorer.search.position)  # the choice is kept across searches
    assert explorer.photometry.mode.value == "direct" and explorer.references
    state = json.loads(explorer.to_json())
    assert (state["mode"], state["reference_before"]) == ("direct", BEFORE)
    again = Explorer(dbclient=setup[2], psf=setup[1])
    again.from_json(json.dumps(state))
    assert again.reference_before == BEFORE and again.photometry.mode.value == "direct"
    np.testing.assert_array_equal(again.photometry.table["flux"],
                                  explorer.photometry.table["flux"])
    explorer.photometry.mode.value = "difference"
    explorer.lightcurve.click(3)
    again.from_json(explorer.to_json())
    assert again.photometry.mode.value == "difference" and again.photometry.selected == [3]


def test_without_a_reference_it_is_direct_photometry(setup, monkeypatch):
    import snapscope.diff
    from snapscope.widgets import explore

    explorer = _explore(setup)
    assert explorer.references == {} and explorer.photometry.mode.disabled
    assert "position" in explorer.photometry.table.colnames

    def unreadable(*args, **kwargs):
        raise OSError("unreadable file")

    monkeypatch.setattr(snapscope.diff, "build_reference", unreadable)
    failed = _explore(setup, reference_before=BEFORE)
    assert "Y106: no reference (OSError: unreadable file), direct photometry only" in failed.status.value
    assert failed.photometry.mode.disabled and len(failed.photometry.table) == 12
    position, _, dsn = setup
    no_psf = explore(f"{position[0]} {position[1]}", dbclient=dsn, reference_before=BEFORE,
                     provenance=("sim", "import"))
    assert "difference photometry needs a PSF" in no_psf.status.value
    assert no_psf.photometry.mode.disabled
