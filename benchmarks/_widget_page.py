"""What ``benchmarks/widget.py`` measures on one page: first picture, stretch change, drags.

Each function drives one viewer already on the page (Voila or JupyterLab) and returns its
figures; the page was opened with ``servers.WS_COUNTER`` (websocket frames and their times) and
``servers.TELEMETRY`` (our viewer's data-* counters and clocks).
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

from servers import wait_for
from widget_page import READ_PIXELS, settled, state

GINGA_PICTURE = """() => { const i = document.querySelector('img.widget-image');
  return i && i.naturalWidth > 0 ? i.src : null; }"""

#: Epoch ms of the click on the button named ``arg[0]``; of the next change of the attribute
#: ``arg[2]`` of the element ``arg[1]`` after it, once drawn (our viewer: the end of the frame
#: that drew the new display, the canvas then holds it; ginga: its new JPEG, decoded); and of
#: the animation frame after that, which begins once the changed frame was handed to the
#: compositor (with headless Chromium's software WebGL, its rasterising is in this last step).
#: Recorded by the page itself, so no polling delay is in the figures.
WATCH_CHANGE = """([button, selector, attribute]) => {
  const now = () => performance.timeOrigin + performance.now();
  window.__clickAt = window.__drawnAt = window.__nextFrameAt = null;
  const b = [...document.querySelectorAll('button')].find((e) => e.textContent.trim() === button);
  b.addEventListener('click', () => { window.__clickAt ??= now(); }, { capture: true, once: true });
  const target = document.querySelector(selector);
  const drawn = () => {
    window.__drawnAt = now();
    requestAnimationFrame(() => { window.__nextFrameAt = now(); });
  };
  const obs = new MutationObserver(() => {
    if (window.__clickAt === null) return;
    obs.disconnect();
    if (target.decode) target.decode().then(drawn, drawn); else drawn();
  });
  obs.observe(target, { attributes: true, attributeFilter: [attribute] });
}"""
#: What WATCH_CHANGE observes, per ``Peer.picture``.
CHANGE_MARK = {"dataset": (".snapscope-viewer", "data-display-to-frame-ms"),
               "img": ("img.widget-image", "src")}
#: Epoch ms when the page's HTML had arrived (Voila sends it once the notebook has run).
HTML_AT = "() => performance.timeOrigin + performance.getEntriesByType('navigation')[0].responseEnd"


def quiet(page, ms: float = 700) -> bool:
    """True when no websocket frame arrived in the last ``ms`` milliseconds."""
    return page.evaluate(
        f"(performance.timeOrigin + performance.now()) - (window.__wsTimes.at(-1) ?? 0) > {ms}"
    )


def colours(page, selector: str) -> bytes:
    """PNG bytes of the centre half of the element (what the user sees there)."""
    box = page.locator(selector).first.bounding_box()
    clip = {
        "x": box["x"] + box["width"] / 4,
        "y": box["y"] + box["height"] / 4,
        "width": box["width"] / 2,
        "height": box["height"] / 2,
    }
    return page.screenshot(clip=clip)


def n_colours(png: bytes) -> int:
    from PIL import Image

    return len(Image.open(io.BytesIO(png)).convert("RGB").getcolors(1 << 16) or [])


def bytes_until(page, mark: int, t: float) -> int:
    """Websocket bytes received after frame ``mark`` up to epoch time ``t`` (seconds)."""
    return int(
        page.evaluate(
            f"window.__wsFrames.slice({mark}).filter((n, i) => window.__wsTimes[{mark} + i]"
            f" <= {t * 1000}).reduce((a, b) => a + b, 0)"
        )
    )


def frames_since(page, mark: int) -> int:
    return int(page.evaluate(f"window.__wsFrames.slice({mark}).reduce((a, b) => a + b, 0)"))


class Picture:
    """Detects a viewer's (first or changed) picture the way its ``Peer.picture`` says."""

    def __init__(self, page, peer: Any) -> None:
        self.page, self.peer = page, peer

    def snapshot(self):
        """Something that changes when the picture changes (None while there is no picture)."""
        page, kind = self.page, self.peer.picture
        if kind == "img":
            return page.evaluate(GINGA_PICTURE)
        if kind == "dataset":
            s = state(page)
            if not s or not s.get("firstPicture"):
                return None
            cx, cy = s["width"] / 2, s["height"] / 2
            return (s["firstPicture"], str(page.evaluate(READ_PIXELS, [0, [[cx, cy], [cx / 2, cy]]])))
        if not page.locator(self.peer.target).count():
            return None
        png = colours(page, self.peer.target)
        return png if n_colours(png) > 64 else None

    def wait_change(self, before, timeout: float = 180) -> tuple[object, float]:
        """Wait until the snapshot differs from ``before``; return it and the epoch time."""

        def changed():
            t = time.time()
            snap = self.snapshot()
            return (snap, t) if snap is not None and snap != before else None

        snap, t = wait_for(changed, timeout=timeout, what=f"{self.peer.name} picture", interval=0.01)
        if self.peer.picture == "dataset" and before is None:
            t = float(snap[0]) / 1000  # the viewer's own timestamp of its first picture
        return snap, t


def first_picture(page, peer: Any, times_json: Path, mark: int, voila: bool) -> dict:
    """Cell start, ``load`` and ``display()`` → first picture, and the bytes until then."""
    _, first = Picture(page, peer).wait_change(None)
    kernel = json.loads(wait_for(lambda: times_json.exists() and times_json.read_text(),
                                 what="the kernel's times"))
    r = {
        "cell_to_picture_s": first - kernel["cell"],
        "display_to_picture_s": first - kernel["display"],
        "load_to_picture_s": first - kernel["load"],
        # the kernel's load call; for snapscope it also builds the overview tile and sets it
        # in the widget state, so this is load_image → first tile sent
        "kernel_load_s": kernel["display"] - kernel["load"],
        "cell_to_kernel_done_s": kernel["end"] - kernel["cell"],
        "bytes_first_picture": bytes_until(page, mark, first),
    }
    if voila:
        r["cell_to_page_html_s"] = page.evaluate(HTML_AT) / 1000 - kernel["cell"]
    if peer.picture == "dataset":  # the view's own clock: constructed → first picture
        r["cell_to_view_made_s"] = float(state(page)["readyAt"]) / 1000 - kernel["cell"]
    wait_for(lambda: quiet(page, 1500), timeout=180, what="quiet")
    if peer.picture == "dataset":
        wait_for(lambda: settled(page), timeout=120, what="settled view")
    r["bytes_settled_view"] = frames_since(page, mark)
    return r


def stretch_change(page, peer: Any) -> dict:
    """A ``set_stretch`` from Python (the button): click → changed picture, and its bytes."""
    picture = Picture(page, peer)
    snap = picture.snapshot()
    mark = page.evaluate("window.__wsFrames.length")
    watched = CHANGE_MARK.get(peer.picture)
    if watched:
        page.evaluate(WATCH_CHANGE, ["log stretch", *watched])
    t0 = time.time()
    page.get_by_role("button", name="log stretch").click()
    r: dict = {}
    if watched:
        marks = wait_for(lambda: page.evaluate("window.__nextFrameAt && [window.__clickAt, "
                                               "window.__drawnAt, window.__nextFrameAt]"),
                         timeout=180, what=f"{peer.name} repaint", interval=0.01)
        r["stretch_click_to_repaint_s"] = (marks[1] - marks[0]) / 1000
        r["stretch_click_to_next_frame_s"] = (marks[2] - marks[0]) / 1000
    else:
        _, t1 = picture.wait_change(snap)
        r["stretch_click_to_repaint_s"] = t1 - t0
    if peer.picture == "dataset":  # the view's own clock: new stretch trait → repainted frame
        r["stretch_trait_to_frame_s"] = float(state(page)["displayToFrameMs"]) / 1000
    wait_for(lambda: quiet(page, 1000), timeout=180, what="quiet")
    r["bytes_stretch_change"] = frames_since(page, mark)
    return r


def five_drags(page, peer: Any) -> dict:
    """Five 150 px drags: the bytes until quiet, and whether our view follows without a kernel."""
    if peer.picture == "dataset":  # full resolution, as ginga's default view
        page.locator(".snapscope-viewer").first.focus()
        page.keyboard.press("1")
        wait_for(lambda: (x := settled(page)) and x["level"] == "0", timeout=120, what="1:1")
    wait_for(lambda: quiet(page, 1000), timeout=180, what="quiet")
    target = page.locator(peer.target).first
    target.scroll_into_view_if_needed()
    box, size = target.bounding_box(), page.viewport_size
    # Start at the centre of what is on screen of the image, with room for a 150 px drag.
    mx = (max(box["x"], 0) + min(box["x"] + box["width"], size["width"])) / 2 + 75
    my = (max(box["y"], 0) + min(box["y"] + box["height"], size["height"])) / 2
    mark = page.evaluate("window.__wsFrames.length")
    follows = True
    for _ in range(5):
        before = state(page)["view"] if peer.picture == "dataset" else None
        page.mouse.move(mx, my)
        page.mouse.down()
        page.mouse.move(mx - 150, my, steps=10)
        if peer.picture == "dataset":
            follows &= state(page)["view"] != before
        page.mouse.up()
    r: dict = {}
    if peer.picture == "dataset":
        wait_for(lambda: settled(page), timeout=120, what="settled after drags")
        r["view_follows_mouse_without_kernel"] = bool(follows)
    wait_for(lambda: quiet(page, 1500), timeout=180, what="quiet after drags")
    r["bytes_five_drags"] = frames_since(page, mark)
    return r
