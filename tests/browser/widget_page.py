"""Notebook code and page helpers shared by the browser tests."""

from __future__ import annotations

import json
import math

import numpy as np

#: The test image: a linear ramp, so every pyramid level holds exact values
#: (a block mean of a linear function is its value at the block centre).
RAMP_CELL = """
import numpy as np
import ipywidgets as ipw
from astropy.visualization import LogStretch
from astropy.wcs import WCS
from snapscope.image import Numpy2DImage
from snapscope.widgets import ImageWidget
import widget_page

import json, os
data = widget_page.ramp()
wcs = widget_page.ramp_wcs()
w = ImageWidget(height="400px")
w.load_image(Numpy2DImage(data=data[::-1].copy(), wcs=widget_page.ramp_wcs(shift=40.0)),
             image_label="shifted")
w.load_image(Numpy2DImage(data=data, wcs=wcs), image_label="ramp")
w.set_cuts(widget_page.CUTS, image_label="ramp")
clicks = os.environ.get("SNAPSCOPE_TEST_CLICK_LOG")
if clicks:
    w.on_click(lambda event: open(clicks, "a").write(json.dumps(event) + chr(10)))
w2 = ImageWidget(height="240px", renderer="canvas")
w2.load_image(Numpy2DImage(data=data, wcs=wcs), image_label="ramp (canvas 2D)")
w2.set_cuts(widget_page.CUTS)
button = ipw.Button(description="log stretch")
button.on_click(lambda _: w.set_stretch(LogStretch(), image_label="ramp"))
ipw.VBox([button, w, w2])
"""

CUTS = (0.0, 300.0)
SHAPE = (600, 900)


def ramp() -> np.ndarray:
    y, x = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    return (x / 4 + y / 8).astype(np.float32)


def ramp_wcs(shift: float = 0.0):
    """TAN WCS of the ramp; ``shift`` moves the reference pixel (another pointing)."""
    from astropy.wcs import WCS

    w = WCS(naxis=2)
    w.wcs.crpix, w.wcs.crval = [450.0 + shift, 300.0 - shift], [150.1, 2.2]
    w.wcs.cdelt = [-0.11 / 3600, 0.11 / 3600]
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    return w


def expected_gray(view: dict, level: int, size: tuple[float, float], sx: float, sy: float) -> int:
    """Gray level the viewer must show at CSS pixel (sx, sy) of the canvas (pixel centre)."""
    width, height = size
    x = view["cx"] + (sx + 0.5 - width / 2) / view["zoom"]
    y = view["cy"] - (sy + 0.5 - height / 2) / view["zoom"]
    f = 2**level
    xc = (math.floor((x + 0.5) / f) + 0.5) * f - 0.5
    yc = (math.floor((y + 0.5) / f) + 0.5) * f - 0.5
    v = float(np.float16(xc / 4 + yc / 8))
    s = min(max((v - CUTS[0]) / (CUTS[1] - CUTS[0]), 0.0), 1.0)
    return min(math.floor(s * 256), 255)


READ_PIXELS = """([sel, points]) => {
  const root = document.querySelectorAll('.snapscope-viewer')[sel];
  const src = root.querySelector('canvas.snapscope-image');
  const c = document.createElement('canvas');
  c.width = src.width; c.height = src.height;
  const ctx = c.getContext('2d');
  ctx.drawImage(src, 0, 0);
  const dpr = src.width / src.clientWidth;
  return points.map(([x, y]) =>
    Array.from(ctx.getImageData(Math.floor(x * dpr), Math.floor(y * dpr), 1, 1).data));
}"""


def state(page, index: int = 0) -> dict:
    """The dataset of the index-th viewer on the page (plus its canvas size)."""
    return page.evaluate(
        """(i) => { const r = document.querySelectorAll('.snapscope-viewer')[i];
        if (!r) return null; const c = r.querySelector('canvas.snapscope-image');
        return {...r.dataset, width: c.clientWidth, height: c.clientHeight,
                status: r.querySelector('.snapscope-status').textContent}; }""",
        index,
    )


def fail_on_traceback(page) -> None:
    """Raise at once if the notebook's cell failed (instead of waiting for a viewer)."""
    text = page.evaluate("document.body.innerText")
    if "Traceback" in text:
        raise AssertionError(f"the notebook failed:\n{text[-3000:]}")


def settled(page, index: int = 0):
    """The viewer's state once every wanted tile is drawn, else None."""
    s = state(page, index)
    if s and s.get("missing") == "0" and s.get("pending") == "0" and int(s.get("drawn", 0)) > 0:
        s["view"] = json.loads(s["view"])
        return s
    return None


STARS_CELL = """
from astropy.visualization import AsinhStretch
from snapscope.image import Numpy2DImage
from snapscope.widgets import ImageWidget
import widget_page

data, flags, wcs, catalog = widget_page.star_field()
w = ImageWidget(height="360px", show_mask=True)
w.load_image(Numpy2DImage(data=data, flags=flags, wcs=wcs), image_label="simulated field")
w.set_cuts((990, 1150))
w.set_stretch(AsinhStretch(0.1))
w.set_colormap("magma")
style = {"shape": "circle", "color": "cyan", "size": 9}
w.load_catalog(catalog, catalog_label="sources", catalog_style=style)
w
"""


def star_field(size: int = 512, n_stars: int = 80, seed: int = 5):
    """A small simulated sky: noise, Gaussian stars, one bad column; and a source table."""
    from astropy.table import Table

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    data = 1000 + 8 * rng.standard_normal((size, size))
    xs, ys = rng.uniform(10, size - 10, n_stars), rng.uniform(10, size - 10, n_stars)
    flux = 10 ** rng.uniform(3, 5, n_stars)
    for xc, yc, f in zip(xs, ys, flux, strict=True):
        sl = (slice(int(yc) - 8, int(yc) + 9), slice(int(xc) - 8, int(xc) + 9))
        data[sl] += f / (2 * np.pi * 2.0**2) * np.exp(-((x[sl] - xc) ** 2 + (y[sl] - yc) ** 2) / 8)
    flags = np.zeros((size, size), np.uint16)
    flags[:, 300:303] = 1
    bright = np.argsort(flux)[-25:]
    return data.astype(np.float32), flags, ramp_wcs(), Table({"x": xs[bright], "y": ys[bright]})


#: Four images of one simulated sky on different pixel grids (rotated, shifted, scaled), in a
#: CompareView; an HTML line shows each pane's view centre (Python's get_viewport) and colormap.
COMPARE_CELL = """
import json
import ipywidgets as ipw
from snapscope.image import Numpy2DImage
from snapscope.widgets import CompareView
import widget_page

images = [Numpy2DImage(data=widget_page.sky_field(w, s), wcs=w) for w, s in widget_page.COMPARE_GRIDS]
cv = CompareView(images, labels=["north up", "rotated 30", "rotated -60, coarser", "rotated 180"],
                 height="300px")
cv.set_cuts((990, 1400))
report = ipw.HTML()

def show(_=None):
    centres = [cv.get_viewport(pane=i, sky_or_pixel="sky")["center"] for i in range(4)]
    report.value = "<pre class='python-views'>" + json.dumps({
        "centres": [[c.ra.deg, c.dec.deg] for c in centres],
        "cmaps": [p.get_colormap() for p in cv.panes]}) + "</pre>"

show()
for p in cv.panes:
    p.observe(show, ["_view", "_displays"])
ipw.VBox([cv, report])
"""


def tan_wcs(crpix, scale: float, rotation: float, crval=(150.1, 2.2)):
    """TAN WCS with a CD matrix: ``scale`` arcsec/pixel, north turned ``rotation`` degrees
    counter-clockwise from +y (east left when 0)."""
    from astropy.wcs import WCS

    w = WCS(naxis=2)
    s, r = scale / 3600, math.radians(rotation)
    w.wcs.crpix, w.wcs.crval = [crpix[0] + 1, crpix[1] + 1], list(crval)
    w.wcs.cd = [[-s * math.cos(r), -s * math.sin(r)], [-s * math.sin(r), s * math.cos(r)]]
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    return w


#: (WCS, shape) of the CompareView test images: one sky, four pixel grids.
COMPARE_GRIDS = [
    (tan_wcs((256, 256), 0.11, 0), (512, 512)),
    (tan_wcs((200, 260), 0.11, 30, (150.1012, 2.1995)), (400, 480)),
    (tan_wcs((180, 190), 0.16, -60), (380, 400)),
    (tan_wcs((330, 210), 0.11, 180, (150.0991, 2.2008)), (500, 600)),
]


def sky_field(wcs, shape: tuple[int, int], n_stars: int = 60, seed: int = 3) -> np.ndarray:
    """Noise and Gaussian stars at fixed sky positions (within 40″ of 150.1, 2.2), drawn
    through ``wcs``: the same stars land on the same sky in every grid."""
    rng = np.random.default_rng(seed)
    ra = 150.1 + rng.uniform(-40, 40, n_stars) / 3600 / math.cos(math.radians(2.2))
    dec = 2.2 + rng.uniform(-40, 40, n_stars) / 3600
    flux = 10 ** rng.uniform(3, 4.5, n_stars)
    xs, ys = wcs.all_world2pix(ra, dec, 0)
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
    data = 1000 + 8 * np.random.default_rng(seed + 1).standard_normal(shape)
    for xc, yc, f in zip(xs, ys, flux, strict=True):
        if -10 < xc < shape[1] + 10 and -10 < yc < shape[0] + 10:
            data += f / (2 * np.pi * 2.0**2) * np.exp(-((x - xc) ** 2 + (y - yc) ** 2) / 8)
    return data.astype(np.float32)


#: Two images of one sky on different pixel grids (shifted, turned 20°, coarser), for blinking.
BLINK_GRIDS = {
    "fine": tan_wcs((450, 300), 0.11, 0),
    "coarse": tan_wcs((380, 260), 0.15, 20),
}

#: An ImageWidget of the BLINK_GRIDS images, a button that blinks from Python, and Python's
#: view of the displayed image (label, pixel centre, fov) as JSON in ``pre.python-view``.
BLINK_CELL = """
import json
import ipywidgets as ipw
from snapscope.image import Numpy2DImage
from snapscope.widgets import ImageWidget
import widget_page

w = ImageWidget(height="300px")
for label, wcs in widget_page.BLINK_GRIDS.items():
    w.load_image(Numpy2DImage(data=widget_page.ramp(), wcs=wcs), image_label=label)
button = ipw.Button(description="blink from Python")
button.on_click(lambda _: w.blink())
report = ipw.HTML()

def show(_=None):
    v = w.get_viewport(sky_or_pixel="pixel", image_label=w.displayed_label)
    report.value = "<pre class='python-view'>" + json.dumps(
        {"label": v["image_label"], "x": float(v["center"][0]), "y": float(v["center"][1]),
         "fov": float(v["fov"])}) + "</pre>"

show()
w.observe(show, ["_view", "_displayed"])
ipw.VBox([button, w, report])
"""
