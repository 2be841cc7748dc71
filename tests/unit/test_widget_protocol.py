"""The tile-protocol twins: Python constants equal their TypeScript twins."""

import re
from pathlib import Path

from snapscope.widgets import _protocol, _traits

ROOT = Path(__file__).resolve().parents[2]


def _ts_constants(path: Path) -> dict[str, object]:
    text = path.read_text()
    out: dict[str, object] = {}
    for name, value in re.findall(r'export const ([A-Z_]+) = ("[^"]*"|\d+);', text):
        out[name] = value.strip('"') if value.startswith('"') else int(value)
    return out


def test_message_kinds_match_protocol_ts():
    ts = _ts_constants(ROOT / "js" / "src" / "protocol.ts")
    py = {
        k: v
        for k, v in vars(_protocol).items()
        if re.fullmatch(r"(MSG|PLANE)_[A-Z_]+|PROTOCOL_VERSION", k)
    }
    assert ts == py
    assert len(py) >= 7


def test_stretch_names_match_stretch_ts():
    text = (ROOT / "js" / "src" / "render" / "stretch.ts").read_text()
    block = text.split("STRETCH_IDS")[1].split("};")[0]
    names = re.findall(r"^\s+(\w+): (\d+),", block, re.M)
    assert tuple(n for n, _ in names) == _traits.STRETCH_NAMES
    assert [int(i) for _, i in names] == list(range(len(names)))


def test_cut_percentiles_match_cuts_ts():
    text = (ROOT / "js" / "src" / "ui" / "cuts.ts").read_text()
    (values,) = re.findall(r"export const CUT_PERCENTILES = \[([^\]]*)\];", text)
    assert tuple(float(v) for v in values.split(",")) == _traits.CUT_PERCENTILES
