"""The Explorer in a real browser (Debian Chromium, Playwright, Voila) against a real catalogue:
type a position, search, open a result, click a cutout, see its light-curve points highlight,
hover a point and see its table row and cutout highlight."""

from __future__ import annotations

import pytest
from dbfixtures import embedded_server
from servers import save_screenshot, voila_notebook_server, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.db, pytest.mark.slow]

TYPED = "00:30:12.2625 -44:48:25.852"  # the simulated supernova, as a person types it
EXPLORER_CELL = """
import os
from snapscope.psf import PSF
from snapscope.widgets import explore

psf = {{b: PSF.get_psf_object("OversampledImagePSF", psffile=f"{survey}/epsf_{{b}}_1.fits")
       for b in ("Y106", "H158")}}
explorer = explore(dbclient=os.environ["SNAPSCOPE_DSN"], psf=psf, provenance=("sim", "import"))
explorer
"""
#: bqplot draws selected points with the stroke width of LightCurve's selected_style.
SELECTED_DOTS = """() => Array.from(document.querySelectorAll('.snapscope-lightcurve .dot'))
    .filter((d) => getComputedStyle(d).strokeWidth === '3px').length"""


@pytest.fixture(scope="module")
def catalogue(sim_survey):
    """The embedded PostgreSQL (``snapscope db start``) in a fresh data directory, holding the
    survey as ('sim', 'import'); stopped and removed afterwards."""
    from snapscope.db._ingest import ingest

    with embedded_server("snapscope-linked-") as dsn:
        ingest([e["path"] for e in sim_survey.exposures], "sim", "import", image_class="ou2024",
               dbclient=dsn, progress=False)
        yield dsn


@pytest.fixture(scope="module")
def voila(tmp_path_factory, jupyter_env, catalogue, sim_survey):
    server = voila_notebook_server(tmp_path_factory.mktemp("voila-linked"), "explorer.ipynb",
                                   [EXPLORER_CELL.format(survey=sim_survey.path)],
                                   {**jupyter_env, "SNAPSCOPE_DSN": catalogue})
    yield server
    server.stop()


def _count(page, selector: str) -> int:
    return page.locator(selector).count()


def test_type_search_open_click_and_highlight(page, voila, screenshots):
    page.set_viewport_size({"width": 1400, "height": 1300})
    page.goto(voila.url(), wait_until="domcontentloaded")
    position = page.get_by_placeholder("7.5511 -44.8072 or 00:30:12 -44:48:26")
    position.wait_for(timeout=120_000)

    # invalid input is marked on the field, nothing is searched
    position.fill("7.55")
    page.locator(".snapscope-search").get_by_role("button", name="Search").click()
    wait_for(lambda: "expected 'RA Dec'" in page.locator(".snapscope-search").inner_text(),
             timeout=30, what="the reason under the position field")
    assert _count(page, ".snapscope-search .snapscope-table tbody tr[data-row]") == 0

    # type a position, search: results, cutouts and photometry arrive
    position.fill(TYPED)
    page.locator(".snapscope-search").get_by_role("button", name="Search").click()
    wait_for(lambda: _count(page, ".snapscope-search .snapscope-table tr[data-row]") == 12,
             timeout=60, what="12 search results")
    wait_for(lambda: page.locator(".snapscope-cutouts .snapscope-thumbs")
             .get_attribute("data-loaded") == "12", timeout=60, what="12 cutouts")
    wait_for(lambda: _count(page, ".snapscope-photometry .snapscope-table tr[data-row]") == 24,
             timeout=60, what="24 photometry rows")
    wait_for(lambda: _count(page, ".snapscope-lightcurve .dot") == 12, timeout=30,
             what="12 light-curve points (PSF photometry)")

    # open a result: the viewer draws it
    page.locator(".snapscope-search .snapscope-table tr[data-row='2']").click()
    wait_for(lambda: page.evaluate("""() => { const v = document.querySelector('.snapscope-viewer');
        return v && Number(v.dataset.drawn || 0) > 0 && v.dataset.missing === '0'; }"""),
             timeout=60, what="the opened image drawn")

    # click a cutout: its rows are selected and its light-curve point is highlighted
    page.locator(".snapscope-thumb[data-index='5']").click()
    wait_for(lambda: _count(page, ".snapscope-photometry tr.selected") == 2, timeout=30,
             what="the cutout's two photometry rows selected")
    wait_for(lambda: page.evaluate(SELECTED_DOTS) == 1, timeout=30,
             what="one highlighted light-curve point")
    assert "selected" in page.locator(".snapscope-thumb[data-index='5']").get_attribute("class")
    save_screenshot(page.locator(".snapscope-explorer > .widget-hbox").nth(0),
                    screenshots / "linked_search_viewer.png")

    # hover another point: its table row and its cutout are outlined
    page.locator(".snapscope-lightcurve .dot").nth(3).hover()
    wait_for(lambda: _count(page, ".snapscope-photometry tr.highlighted") == 1, timeout=30,
             what="the hovered point's row highlighted")
    wait_for(lambda: _count(page, ".snapscope-thumb.highlighted") == 1, timeout=30,
             what="the hovered point's cutout outlined")
    save_screenshot(page.locator(".snapscope-explorer > .widget-hbox").nth(1),
                    screenshots / "linked_cutouts_lightcurve.png")
