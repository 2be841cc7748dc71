"""find_images / get_image / save_to_db / bulk_save_to_db against a real catalogue."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from snapscope.exceptions import DatabaseError, UnknownFilterError
from snapscope.image import FITSImage, FITSImageStdHeaders, Image, OpenUniverse2024FITSImage

pytestmark = pytest.mark.db

BANDS = ("Y106", "J129", "H158")
NUMERIC = (
    "ra",
    "dec",
    "ra_corner_00",
    "ra_corner_01",
    "ra_corner_10",
    "ra_corner_11",
    "dec_corner_00",
    "dec_corner_01",
    "dec_corner_10",
    "dec_corner_11",
    "width",
    "height",
    "sca",
    "mjd",
    "exptime",
    "position_angle",
)
INJECTIONS = (
    "'; DROP TABLE l2image; --",
    "x' OR '1'='1",
    "\\'; SELECT pg_sleep(5); --",
    'Y106"; DELETE FROM provenance; --',
    "%s%(x)s{}",
    "\x01\u2603 ' OR 1=1 --",
)


def _square(ra, dec, half=0.05):
    cd = np.cos(np.radians(dec))
    return {
        "ra_corner_00": ra - half / cd,
        "dec_corner_00": dec - half,
        "ra_corner_01": ra - half / cd,
        "dec_corner_01": dec + half,
        "ra_corner_11": ra + half / cd,
        "dec_corner_11": dec + half,
        "ra_corner_10": ra + half / cd,
        "dec_corner_10": dec - half,
    }


def make_images(provenance, n=30, cls=FITSImage, prefix="/data/img"):
    images = []
    for i in range(n):
        ra, dec = 10.0 + 0.02 * i, -5.0 + 0.01 * i
        corners = {k: v % 360 if k.startswith("ra") else v for k, v in _square(ra, dec).items()}
        images.append(
            cls(
                full_filepath=f"{prefix}_{i:03d}.fits",
                width=4088 - i,
                height=4000 + i,
                ra=ra,
                dec=dec,
                band=BANDS[i % 3],
                mjd=62000.0 + 3.5 * i,
                exptime=100.0 + i,
                position_angle=-170.0 + 11 * i,
                sca=1 + i % 18,
                observation_id=str(1000 + i // 3),
                **corners,
            )
        )
        images[-1].provenance_id = provenance.id
    return images


@pytest.fixture
def catalogue(dbclient, provenance):
    images = make_images(provenance)
    assert Image.bulk_save_to_db(images, dbclient=dbclient) == len(images)
    rows = [im.db_row() for im in images]
    return images, rows


def _paths(found):
    return sorted(str(im.filepath) for im in found)


def _expect(rows, pred):
    return sorted(r["filepath"] for r in rows if pred(r))


def test_bulk_save_assigns_ids_and_round_trips(catalogue, dbclient):
    images, rows = catalogue
    assert all(isinstance(im.id, uuid.UUID) for im in images)
    got = Image.get_image(images[4].id, dbclient=dbclient)
    assert type(got) is FITSImage
    want = images[4].db_row()
    for key, value in got.db_row().items():
        assert (
            value == pytest.approx(want[key], rel=1e-12)
            if isinstance(value, float)
            else value == want[key]
        ), key


@pytest.mark.parametrize(
    "key,value",
    [
        ("band", "J129"),
        ("sca", 3),
        ("sca", "3"),
        ("observation_id", "1002"),
        ("filepath", "/data/img_007.fits"),
        ("format", 10),
        ("width", 4080),
        ("mjd", 62003.5),
    ],
)
def test_equality_filters(catalogue, dbclient, provenance, key, value):
    _, rows = catalogue
    found = Image.find_images(provenance=provenance, dbclient=dbclient, **{key: value})
    want = _expect(rows, lambda r: str(r[key]) == str(value) if key != "mjd" else r[key] == value)
    assert want and _paths(found) == want


def test_list_and_none_values(catalogue, dbclient):
    _, rows = catalogue
    found = Image.find_images(dbclient=dbclient, band=["Y106", "H158"], sca=(1, 2, 3, 4, 5, 6))
    assert _paths(found) == _expect(rows, lambda r: r["band"] in ("Y106", "H158") and r["sca"] <= 6)
    assert Image.find_images(dbclient=dbclient, band=None) == []


@pytest.mark.parametrize("col", NUMERIC)
def test_min_max_filters(catalogue, dbclient, provenance, col):
    _, rows = catalogue
    values = sorted(r[col] for r in rows)
    lo, hi = values[5], values[20]
    found = Image.find_images(
        provenance=provenance, dbclient=dbclient, **{f"{col}_min": lo, f"{col}_max": hi}
    )
    assert _paths(found) == _expect(rows, lambda r: lo <= r[col] <= hi)
    assert len(Image.find_images(dbclient=dbclient, **{f"{col}_min": lo})) == sum(
        v >= lo for v in values
    )
    assert len(Image.find_images(dbclient=dbclient, **{f"{col}_max": hi})) == sum(
        v <= hi for v in values
    )


def test_containment_and_cone(catalogue, dbclient, provenance):
    images, rows = catalogue
    found = Image.find_images(provenance=provenance, dbclient=dbclient, ra=10.2, dec=-4.9)
    assert _paths(found) == _expect(
        rows,
        lambda r: (
            abs(r["ra"] - 10.2) < 0.05 / np.cos(np.radians(4.9)) * 0.99
            and abs(r["dec"] + 4.9) < 0.05
        ),
    )
    assert Image.find_images(dbclient=dbclient, ra=200.0, dec=30.0) == []
    cone = Image.find_images(dbclient=dbclient, ra=10.2, dec=-4.9, radius=0.2)
    assert set(_paths(found)) < set(_paths(cone))
    everything = Image.find_images(dbclient=dbclient, ra=10.3, dec=-4.85, radius=5)
    assert len(everything) == len(images)
    combined = Image.find_images(
        dbclient=dbclient, ra=10.2, dec=-4.9, radius=0.2, band="Y106", mjd_min=62010
    )
    assert _paths(combined) == _expect(
        {r["filepath"]: r for r in rows}.values(),
        lambda r: r["filepath"] in _paths(cone) and r["band"] == "Y106" and r["mjd"] >= 62010,
    )


def test_order_limit_offset(catalogue, dbclient):
    _, rows = catalogue
    by_mjd = Image.find_images(dbclient=dbclient, order_by="mjd")
    assert [im.mjd for im in by_mjd] == sorted(r["mjd"] for r in rows)
    desc = Image.find_images(dbclient=dbclient, order_by=["band", "-position_angle"])
    keys = [(im.band, -im.position_angle) for im in desc]
    assert keys == sorted(keys)
    pages = [
        Image.find_images(dbclient=dbclient, order_by="band", limit=7, offset=o)
        for o in range(0, 35, 7)
    ]
    flat = [str(im.filepath) for page in pages for im in page]
    assert len(flat) == len(rows) == len(set(flat))
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    with pytest.raises(ValueError, match="non-negative integer"):
        Image.find_images(dbclient=dbclient, limit=-1)


def test_provenance_arguments(catalogue, dbclient, provenance):
    from snapscope.provenance import Provenance

    n = len(catalogue[0])
    assert (
        len(Image.find_images(provenance_tag="test", process="synthetic", dbclient=dbclient)) == n
    )
    assert len(Image.find_images(provenance=str(provenance.id), dbclient=dbclient)) == n
    other = Provenance("other", 1, 0)
    other.save_to_db(dbclient=dbclient)
    assert Image.find_images(provenance=other, dbclient=dbclient) == []
    with pytest.raises(ValueError, match="Must specify either provenance"):
        Image.find_images(
            provenance=provenance, provenance_tag="test", process="synthetic", dbclient=dbclient
        )
    with pytest.raises(ValueError, match="given together"):
        Image.find_images(provenance_tag="test", dbclient=dbclient)
    with pytest.raises(ValueError, match=r"known \(tag, process\): \('test', 'synthetic'\)"):
        Image.find_images(provenance_tag="nope", process="synthetic", dbclient=dbclient)


def test_a_tag_search_is_one_statement(catalogue, dbclient, monkeypatch):
    """The tag is resolved inside the search; only an empty answer checks the tag exists."""
    import psycopg

    statements = []
    execute = psycopg.Cursor.execute

    def counting(self, query, *args, **kwargs):
        if query:  # "" is the connection pool's liveness check
            statements.append(query)
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    found = Image.find_images(provenance_tag="test", process="synthetic", band="Y106",
                              dbclient=dbclient)
    assert found and len(statements) == 1
    statements.clear()
    assert Image.find_images(provenance_tag="test", process="synthetic", band="nope",
                             dbclient=dbclient) == []  # a known tag, nothing matches: no error
    assert len(statements) == 2


def test_bad_filters(catalogue, dbclient):
    with pytest.raises(UnknownFilterError, match="allowed: .*band.*mjd_min"):
        Image.find_images(dbclient=dbclient, filter="R062")
    with pytest.raises(UnknownFilterError, match="cannot order by"):
        Image.find_images(dbclient=dbclient, order_by="mjd; DROP TABLE l2image")
    with pytest.raises(ValueError, match="both or neither"):
        Image.find_images(dbclient=dbclient, ra=10.0)
    with pytest.raises(ValueError, match="radius needs ra and dec"):
        Image.find_images(dbclient=dbclient, radius=1.0)
    with pytest.raises(ValueError, match="not a valid sca"):
        Image.find_images(dbclient=dbclient, sca="three")
    with pytest.raises(ValueError, match="between 0 and 90"):
        Image.find_images(dbclient=dbclient, ra=1, dec=1, radius=100)


@pytest.mark.parametrize("evil", INJECTIONS)
def test_sql_injection_strings_are_just_values(catalogue, dbclient, evil):
    n = len(catalogue[0])
    for key in ("band", "observation_id", "filepath"):
        assert Image.find_images(dbclient=dbclient, **{key: evil}) == []
        assert Image.find_images(dbclient=dbclient, **{key: [evil, "x"]}) == []
    with pytest.raises(ValueError):
        Image.find_images(provenance_tag=evil, process=evil, dbclient=dbclient)
    with pytest.raises(UnknownFilterError):
        Image.find_images(dbclient=dbclient, order_by=evil)
    with pytest.raises(UnknownFilterError):
        Image.find_images(dbclient=dbclient, **{evil: 1})
    with pytest.raises(ValueError):
        Image.find_images(dbclient=dbclient, id=evil)
    assert len(Image.find_images(dbclient=dbclient)) == n
    assert dbclient.fetch("SELECT count(*) AS n FROM provenance")[0]["n"] == 1


def test_save_one_image(dbclient, provenance):
    im = make_images(provenance, n=1)[0]
    row = im.save_to_db(dbclient=dbclient)
    assert row["id"] == im.id and row["filepath"] == "/data/img_000.fits"
    with pytest.raises(DatabaseError, match="already exists"):
        make_images(provenance, n=1)[0].save_to_db(dbclient=dbclient)
    no_prov = make_images(provenance, n=2)[1]
    no_prov.provenance_id = None
    with pytest.raises(ValueError, match="no provenance_id"):
        no_prov.save_to_db(dbclient=dbclient)
    no_corners = FITSImage(
        full_filepath="/data/nowcs.fits",
        width=10,
        height=10,
        ra=1.0,
        dec=1.0,
        band="Y106",
        mjd=1.0,
        exptime=1.0,
        position_angle=0.0,
        sca=1,
        observation_id="1",
    )
    no_corners.provenance_id = provenance.id
    with pytest.raises(Exception, match="(?i)wcs|corner"):
        no_corners.save_to_db(dbclient=dbclient)
    assert len(Image.find_images(dbclient=dbclient)) == 1


def test_failed_bulk_save_leaves_nothing(dbclient, provenance):
    images = make_images(provenance, n=50)
    images[37] = make_images(provenance, n=38)[1]  # same filepath as images[1]
    with pytest.raises(DatabaseError, match="nothing saved"):
        Image.bulk_save_to_db(images, dbclient=dbclient)
    assert Image.find_images(dbclient=dbclient) == []
    bad = make_images(provenance, n=5)
    bad[3].ra_corner_01 = bad[3].ra_corner_10  # a bow-tie footprint
    with pytest.raises(ValueError, match="img_003.*convex"):
        Image.bulk_save_to_db(bad, dbclient=dbclient)
    assert Image.find_images(dbclient=dbclient) == []


def test_result_classes_follow_format(dbclient, provenance):
    saved = (
        make_images(provenance, n=2, cls=FITSImage, prefix="/a/f")
        + make_images(provenance, n=2, cls=FITSImageStdHeaders, prefix="/a/s")
        + make_images(
            provenance,
            n=2,
            cls=OpenUniverse2024FITSImage,
            prefix="/a/Roman_TDS_simple_model_Y106_1",
        )
    )
    Image.bulk_save_to_db(saved, dbclient=dbclient)
    found = {str(im.filepath): type(im) for im in Image.find_images(dbclient=dbclient)}
    assert found == {str(im.filepath): type(im) for im in saved}


def test_get_image_errors(dbclient):
    with pytest.raises(KeyError, match="no image with id"):
        Image.get_image(uuid.uuid4(), dbclient=dbclient)
    with pytest.raises(ValueError, match="not an image id"):
        Image.get_image("12'; DROP TABLE l2image; --", dbclient=dbclient)


def test_default_client_and_dsn_strings(catalogue, db_dsn):
    n = len(catalogue[0])
    assert len(Image.find_images()) == n  # SNAPSCOPE_DSN
    assert len(Image.find_images(dbclient=db_dsn)) == n
    with pytest.raises(TypeError, match="dbclient must be"):
        Image.find_images(dbclient=42)


def test_image_collection_db(catalogue, dbclient, provenance, tmp_path):
    from snapscope.imagecollection import ImageCollection

    images, _ = catalogue
    coll = ImageCollection.get_collection(
        "snpitdb", provenance_tag="test", process="synthetic", dbclient=dbclient
    )
    assert len(coll.find_images(band="Y106")) == 10
    assert str(coll.get_image(image_id=images[3].id).filepath) == str(images[3].filepath)
    assert coll.get_image(observation_id="1001", band="Y106").sca == images[3].sca
    with pytest.raises(LookupError, match="3 images match"):
        coll.get_image(observation_id="1001")
    with pytest.raises(ValueError, match="needs image_id"):
        coll.get_image()


def test_provenance_reference_is_enforced(dbclient, provenance):
    import psycopg

    from snapscope.provenance import Provenance

    ghost = Provenance("never_saved", 1, 0)
    images = make_images(provenance, n=3)
    images[2].provenance_id = ghost.id
    with pytest.raises(DatabaseError, match="save the Provenance first"):
        Image.bulk_save_to_db(images, dbclient=dbclient)
    with pytest.raises(DatabaseError, match="save the Provenance first"):
        images[2].save_to_db(dbclient=dbclient)
    assert Image.find_images(dbclient=dbclient) == []
    Image.bulk_save_to_db(images[:2], dbclient=dbclient)
    with dbclient.connection() as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="still referenced"):
            conn.execute("DELETE FROM provenance WHERE id = %s", (provenance.id,))
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="not present"):
            conn.execute("UPDATE l2image SET provenance_id = %s", (ghost.id,))
        unused = Provenance("unused", 1, 0)
        unused.save_to_db(dbclient=dbclient)
        conn.execute("DELETE FROM provenance WHERE id = %s", (unused.id,))
    assert len(Image.find_images(dbclient=dbclient)) == 2
