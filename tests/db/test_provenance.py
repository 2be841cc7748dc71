"""Provenance ids (snappl's rule) and their catalogue: save, tag, look up."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import uuid

import numpy as np
import pytest

from snapscope.provenance import Provenance


def snappl_id(
    process, major, minor, params, upstream_ids=(), environment=None, env_major=None, env_minor=None
):
    """snappl's provenance id, written out from its documented recipe."""
    spec = {
        "process": process,
        "major": major,
        "minor": minor,
        "environment": environment,
        "env_major": env_major,
        "env_minor": env_minor,
        "params": params,
        "upstream_ids": sorted(str(u) for u in upstream_ids),
    }
    text = json.dumps(spec, sort_keys=True).encode("utf-8")
    return uuid.UUID(hashlib.md5(base64.standard_b64encode(text)).hexdigest())


def test_id_is_snappls():
    p = Provenance("import_ou2024_l2images", 0, 1, params={"image_class": "ou2024"})
    assert p.id == snappl_id("import_ou2024_l2images", 0, 1, {"image_class": "ou2024"})
    # a fixed value, so a change of the recipe cannot go unnoticed
    assert (
        str(Provenance("test", 0, 1, params={"a": 1}).id) == "cba4201e-6a1a-fc6d-2fad-9fa16916050b"
    )


def test_id_ignores_key_and_upstream_order_but_not_values():
    a = Provenance("u1", 1, 0)
    b = Provenance("u2", 1, 0)
    p1 = Provenance("p", 2, 3, params={"x": 1, "y": {"b": 2, "a": [1, 2]}}, upstreams=[a, b])
    p2 = Provenance("p", 2, 3, params={"y": {"a": [1, 2], "b": 2}, "x": 1}, upstreams=[b, a])
    assert p1.id == p2.id
    assert p1.id == snappl_id("p", 2, 3, {"x": 1, "y": {"b": 2, "a": [1, 2]}}, [a.id, b.id])
    assert Provenance("p", 2, 4, params={"x": 1}).id != Provenance("p", 2, 3, params={"x": 1}).id
    assert (
        Provenance("p", 2, 3, params={"x": np.float64(0.5)}).id
        == Provenance("p", 2, 3, params={"x": 0.5}).id
    )
    assert Provenance("p", 1, 0, upstreams=a).upstreams == [a]


def test_bad_arguments():
    with pytest.raises(TypeError, match="params must be a dict"):
        Provenance("p", 1, 0, params=[1, 2])
    with pytest.raises(TypeError, match="upstreams must be a list of Provenance"):
        Provenance("p", 1, 0, upstreams=["not a provenance"])


def test_import_does_not_import_psycopg():
    code = (
        "import sys, snapscope.provenance; assert 'psycopg' not in sys.modules, 'psycopg imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.db
def test_save_and_get_by_id_round_trip(dbclient):
    up = Provenance("upstream", 1, 0, params={"k": [1, 2.5, "s"]})
    up.save_to_db(dbclient=dbclient)
    p = Provenance(
        "down",
        2,
        1,
        params={"nested": {"z": None, "a": 1.0}},
        upstreams=[up],
        environment=3,
        env_major=1,
        env_minor=2,
    )
    p.save_to_db(dbclient=dbclient)
    got = Provenance.get_by_id(str(p.id), dbclient=dbclient)
    assert got == p and got.id == p.id
    assert got.params == {"nested": {"z": None, "a": 1.0}}
    assert [u.id for u in got.upstreams] == [up.id]
    assert (got.environment, got.env_major, got.env_minor) == (3, 1, 2)
    p.save_to_db(dbclient=dbclient)  # saving again is a no-op
    with pytest.raises(KeyError, match="no provenance"):
        Provenance.get_by_id(uuid.uuid4(), dbclient=dbclient)


@pytest.mark.db
def test_exists_flags(dbclient):
    p = Provenance("p", 1, 0)
    with pytest.raises(ValueError, match="exists=True"):
        p.save_to_db(exists=True, dbclient=dbclient)
    p.save_to_db(exists=False, dbclient=dbclient)
    with pytest.raises(ValueError, match="already exists"):
        p.save_to_db(exists_ok=False, dbclient=dbclient)
    p.save_to_db(exists=True, dbclient=dbclient)


@pytest.mark.db
def test_upstream_must_be_saved_first(dbclient):
    up = Provenance("up", 1, 0)
    p = Provenance("down", 1, 0, upstreams=[up])
    with pytest.raises(ValueError, match="must be saved before"):
        p.save_to_db(tag="t", dbclient=dbclient)
    with pytest.raises(KeyError):
        Provenance.get_by_id(p.id, dbclient=dbclient)  # nothing half-written
    with pytest.raises(KeyError):
        Provenance.get_provs_for_tag("t", "down", dbclient=dbclient)


@pytest.mark.db
def test_tags(dbclient):
    a = Provenance("proc_a", 1, 0)
    b = Provenance("proc_b", 1, 0)
    a2 = Provenance("proc_a", 1, 1)
    a.save_to_db(tag="dr1", dbclient=dbclient)
    b.save_to_db(tag="dr1", dbclient=dbclient)
    assert Provenance.get_provs_for_tag("dr1", "proc_a", dbclient=dbclient) == a
    assert Provenance.get_provs_for_tag("dr1", dbclient=dbclient) == [a, b]
    assert Provenance.get_provs_for_tag("nope", dbclient=dbclient) == []
    with pytest.raises(KeyError, match="no provenance for tag 'dr1' and process 'proc_c'"):
        Provenance.get_provs_for_tag("dr1", "proc_c", dbclient=dbclient)
    a.save_to_db(tag="dr1", dbclient=dbclient)  # same provenance: fine
    with pytest.raises(ValueError, match="already names provenance"):
        a2.save_to_db(tag="dr1", dbclient=dbclient)
    assert Provenance.get_provs_for_tag("dr1", "proc_a", dbclient=dbclient) == a
    a2.save_to_db(tag="dr1", replace_tag=True, dbclient=dbclient)
    assert Provenance.get_provs_for_tag("dr1", "proc_a", dbclient=dbclient) == a2


@pytest.mark.db
def test_default_client_from_environment(db_dsn):
    p = Provenance("env", 1, 0)
    p.save_to_db(tag="t")  # SNAPSCOPE_DSN points at this test's database
    assert Provenance.get_provs_for_tag("t", "env") == p


@pytest.mark.db
def test_list_provenance_tags(dbclient):
    from snapscope.db import list_provenance_tags

    assert list_provenance_tags(dbclient) == []
    Provenance("b_proc", 1, 0).save_to_db(tag="dr2", dbclient=dbclient)
    Provenance("a_proc", 1, 0).save_to_db(tag="dr2", dbclient=dbclient)
    Provenance("a_proc", 1, 1).save_to_db(tag="dr1", dbclient=dbclient)
    assert list_provenance_tags(dbclient) == [("dr1", "a_proc"), ("dr2", "a_proc"), ("dr2", "b_proc")]


@pytest.mark.db
def test_get_like_snappl(dbclient):
    with pytest.raises(KeyError):
        Provenance.get("g", 1, 0, exists=True, dbclient=dbclient)
    p = Provenance.get("g", 1, 0, params={"a": 1}, savetodb=True, dbclient=dbclient)
    assert Provenance.get_by_id(p.id, dbclient=dbclient) == p
    assert Provenance.get("g", 1, 0, params={"a": 1}, exists=True, dbclient=dbclient) == p
    with pytest.raises(ValueError, match="already exists"):
        Provenance.get("g", 1, 0, params={"a": 1}, exists=False, savetodb=True, dbclient=dbclient)
