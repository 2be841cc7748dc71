"""The dependency contract: the lock files match pyproject.toml, and the core code imports exactly
the core dependencies (everything else lazily, from an extra); the built front-end bundles are
the ones the package ships."""

from __future__ import annotations

import ast
import functools
import importlib.metadata as md
import os
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "snapscope"
LOCK = REPO / "requirements" / "lock.txt"
BINDER_LOCK = REPO / "binder" / "requirements.txt"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
MAKE_LOCK = "the lock no longer matches pyproject.toml: run `make lock`, then `make test`"
PYTHONS = ("3.11", "3.12")
# Subpackages that are an extra as a whole (their __init__ imports nothing eagerly): their
# modules may import that extra at module level.
EXTRA_SUBPACKAGES = {"sim": {"galsim"}}
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def environment(python: str) -> dict[str, str]:
    return {"python_version": python, "python_full_version": f"{python}.0", "sys_platform": "linux",
            "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
            "platform_python_implementation": "CPython", "platform_machine": "x86_64"}


def read_lock(path: Path) -> dict[str, list[tuple[str, str | None, int]]]:
    """Name → [(version, marker, number of hashes)] of a `uv pip compile --generate-hashes` file."""
    pins: dict[str, list[tuple[str, str | None, int]]] = {}
    current = None
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name, version, marker = match.groups()
            current = [version, marker, 0]
            pins.setdefault(canonicalize_name(name), []).append(current)
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            current[2] += 1
    return {name: [tuple(p) for p in entries] for name, entries in pins.items()}


def pinned_version(pins: dict, name: str, python: str) -> str | None:
    for version, marker, _ in pins.get(canonicalize_name(name), []):
        if marker is None or Marker(marker).evaluate(environment(python)):
            return version
    return None


def project_requirements() -> list[tuple[str, Requirement]]:
    """(extra or 'core', requirement) of pyproject.toml; self-references are left out."""
    reqs = [("core", Requirement(r)) for r in PYPROJECT["dependencies"]]
    for extra, items in PYPROJECT["optional-dependencies"].items():
        reqs += [(extra, Requirement(r)) for r in items]
    return [(extra, r) for extra, r in reqs if canonicalize_name(r.name) != "snapscope"]


@pytest.mark.parametrize("python", PYTHONS)
def test_lock_pins_every_requirement_of_pyproject(python):
    pins = read_lock(LOCK)
    for extra, req in project_requirements():
        if req.marker is not None and not req.marker.evaluate(environment(python)):
            continue
        version = pinned_version(pins, req.name, python)
        assert version is not None, f"{req.name} ({extra}) is not in {LOCK.name}: {MAKE_LOCK}"
        assert req.specifier.contains(version, prereleases=True), (
            f"{LOCK.name} pins {req.name}=={version}, outside {req} ({extra}): {MAKE_LOCK}")


def test_every_pin_is_hash_checked():
    for path in (LOCK, BINDER_LOCK):
        for name, entries in read_lock(path).items():
            assert all(hashes > 0 for _, _, hashes in entries), f"{path.name}: {name} has no hash"


@pytest.mark.parametrize("python", PYTHONS)
def test_binder_installs_the_versions_of_the_main_lock(python):
    main, binder = read_lock(LOCK), read_lock(BINDER_LOCK)
    assert "jupyterlab" in binder and "galsim" in binder
    for name in binder:
        version = pinned_version(binder, name, python)
        if version is not None:
            assert version == pinned_version(main, name, python), (
                f"{BINDER_LOCK.name} pins {name}=={version}, {LOCK.name} another: {MAKE_LOCK}")


def test_the_environment_is_the_lock():
    """The running environment was installed from the lock (`make test`), not resolved anew;
    `make test-latest` (LOCK=0) is the deliberate exception."""
    if os.environ.get("SNAPSCOPE_LATEST") == "1":
        pytest.skip("make test-latest: the newest allowed versions, on purpose")
    pins = read_lock(LOCK)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    for name in ("numpy", "astropy", "photutils", "scipy", "psycopg", "anywidget", "matplotlib"):
        assert md.version(name) == pinned_version(pins, name, python), (
            f"{name} {md.version(name)} is installed, the lock pins another: run `make env`")


# --- what the core code imports ------------------------------------------------------------


def imports(path: Path) -> tuple[set[str], set[str]]:
    """Top-level package names imported by a module: (at module level, anywhere)."""
    tree = ast.parse(path.read_text())
    module_level: set[str] = set()
    everywhere: set[str] = set()

    def names(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name.split(".")[0] for a in node.names]
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            return [node.module.split(".")[0]]
        return []

    for node in ast.walk(tree):
        everywhere.update(names(node))
    for node in tree.body:  # module level, outside `if TYPE_CHECKING:` and functions
        module_level.update(names(node))
    return module_level, everywhere


@functools.cache
def installed_packages() -> dict[str, list[str]]:
    return md.packages_distributions()


def distribution_of(module: str) -> str:
    dists = installed_packages().get(module)
    assert dists, f"snapscope imports {module!r}, which no installed distribution provides"
    return canonicalize_name(dists[0])


def declared(extra_of: str) -> set[str]:
    """Distributions a requirement group brings (with the extras of its requirements, e.g.
    psycopg[pool] → psycopg-pool)."""
    out = set()
    for extra, req in project_requirements():
        if extra != extra_of:
            continue
        out.add(canonicalize_name(req.name))
        for sub in md.requires(req.name) or []:
            sub = Requirement(sub)
            if sub.marker and any(sub.marker.evaluate({"extra": e}) for e in req.extras):
                out.add(canonicalize_name(sub.name))
    return out


def third_party(names: set[str]) -> set[str]:
    return {n for n in names if n not in sys.stdlib_module_names and n != "snapscope"}


def test_core_code_imports_exactly_the_core_dependencies():
    core = {canonicalize_name(r.name) for extra, r in project_requirements() if extra == "core"}
    assert len(core) <= 10, sorted(core)
    core_plus = declared("core")
    extras = set().union(*(declared(e) for e in PYPROJECT["optional-dependencies"]))
    used, eager = set(), {}
    for path in SRC.rglob("*.py"):
        module_level, everywhere = imports(path)
        used |= {distribution_of(m) for m in third_party(everywhere)}
        allowed = EXTRA_SUBPACKAGES.get(path.relative_to(SRC).parts[0], set())
        for m in third_party(module_level) - allowed:
            eager.setdefault(distribution_of(m), []).append(path.relative_to(REPO).as_posix())
    assert used <= core_plus | extras, f"imported but not declared: {sorted(used - core_plus - extras)}"
    assert core <= used, f"core dependencies the code never imports: {sorted(core - used)}"
    not_core = {d: p for d, p in eager.items() if d not in core_plus}
    assert not not_core, f"extras imported at module level (import them where they are used): {not_core}"


def test_every_front_end_bundle_is_built_and_shipped():
    """build.mjs writes one file per entry point; the wheel, the sdist and the build hook list
    exactly those files, and they are the bundles the widgets load (`_bundles.BUNDLES`)."""
    from snapscope.widgets._bundles import BUNDLES, bundle

    block = (REPO / "build.mjs").read_text().split("entryPoints: {")[1].split("}")[0]
    entries = re.findall(r'^\s*(\w+): "js/src/[\w/]+\.ts",', block, re.M)
    assert entries == list(BUNDLES)
    files = [str(bundle(name).relative_to(REPO)) for name in BUNDLES]
    hatch = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["hatch"]["build"]
    hook = hatch["hooks"]["jupyter-builder"]
    for listed in (hatch["targets"]["wheel"]["artifacts"], hatch["targets"]["sdist"]["artifacts"],
                   hook["ensured-targets"], hook["skip-if-exists"]):
        assert listed == files
