"""SearchForm against the real catalogue: set the form → search runs → table rows → image opens."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.db

POSITION_SEXAGESIMAL = "00:30:12.2625 -44:48:25.852"


@pytest.fixture
def catalogue(db_dsn, sim_survey):
    """This test's database with the survey catalogued as ('sim', 'import')."""
    from snapscope.db._ingest import ingest

    report = ingest([e["path"] for e in sim_survey.exposures], "sim", "import",
                    image_class="ou2024", dbclient=db_dsn, progress=False)
    assert len(report.skipped) == 0
    return db_dsn


@pytest.fixture
def form(catalogue):
    from snapscope.widgets import ImageWidget, SearchForm

    return SearchForm(viewer=ImageWidget(), dbclient=catalogue, page_size=10)


def test_provenances_come_from_the_catalogue(form):
    assert [v for _, v in form.provenance.options] == [None, ("sim", "import")]
    assert "Y106" in form.bands.options


def test_form_search_equals_find_images(form, sim_survey):
    from snapscope.image import Image

    form.set_values(provenance=("sim", "import"), bands=["H158"], position=POSITION_SEXAGESIMAL)
    assert form.search()
    expected = Image.find_images(provenance_tag="sim", process="import", band=["H158"],
                                 ra=sim_survey.sn_ra, dec=sim_survey.sn_dec, order_by="mjd",
                                 dbclient=form.dbclient)
    assert len(expected) == 6
    assert [im.id for im in form.images] == [im.id for im in expected]
    assert form.position == pytest.approx((sim_survey.sn_ra, sim_survey.sn_dec), abs=1e-6)
    assert [row[1] for row in form.table.rows] == ["H158"] * 6
    assert form.table.rows[0][2] == f"{expected[0].mjd:.4f}"
    assert not form.has_next and form.searches == 1
    assert form.filters()["band"] == ["H158"]


def test_pages_do_not_overlap_and_cover_everything(form):
    form.set_values(page_size=10, order_by="band")
    assert form.search() and form.has_next and not form.next_button.disabled
    first = [im.id for im in form.images]
    form.next_button.click()
    second = [im.id for im in form.images]
    assert form.page == 1 and not form.has_next and form.prev_button.disabled is False
    assert len(set(first) | set(second)) == 12
    assert form.table.rows[0][0] == "11"


def test_header_click_sorts_in_the_catalogue(form):
    form.set_values(page_size=100)
    form.search()
    form.table.sort = {"column": "mjd", "descending": True}
    assert form.order_by.value == "mjd" and form.descending.value
    mjds = [im.mjd for im in form.images]
    assert mjds == sorted(mjds, reverse=True) and form.searches == 2


def test_cone_search_with_a_radius(form, sim_survey):
    far = f"{sim_survey.sn_ra + 0.02:.6f} {sim_survey.sn_dec:.6f}"  # ~50″ east: off every image
    form.set_values(position=far, page_size=100)
    assert form.search() and form.images == []
    assert form.table.empty_text == "no image matches"
    form.set_values(radius="1", radius_unit="arcmin")
    assert form.search() and len(form.images) == 12
    assert form.filters()["radius"] == pytest.approx(1 / 60)


@pytest.mark.parametrize("values, field, reason", [
    ({"position": "7.55"}, "position", "expected 'RA Dec'"),
    ({"position": "10 95"}, "position", "between -90 and 90"),
    ({"radius": "2"}, "radius", "needs a position"),
    ({"radius": "-1", "position": "1 2"}, "radius", "greater than 0"),
    ({"mjd_min": "62500", "mjd_max": "62400"}, "mjd_max", "must not be smaller"),
    ({"sca": "one"}, "sca", "not an integer"),
    ({"exptime_min": "long"}, "exptime_min", "not a number"),
])
def test_invalid_input_marked_on_the_field(form, values, field, reason):
    form.set_values(**values)
    assert form.search() is False
    assert reason in form.errors.get(field, "") or reason in form.fields[field].error
    assert "snapscope-invalid" in form.fields[field].text._dom_classes
    assert "fix the marked fields" in form.status.value and form.searches == 0
    form.set_values(position="", radius="", mjd_min="", mjd_max="", sca="", exptime_min="")
    assert form.search() and form.errors == {}
    assert "snapscope-invalid" not in form.fields[field].text._dom_classes


def test_catalogue_errors_go_to_the_status_line(form):
    from snapscope.db import DBClient

    with pytest.raises(ValueError, match="not in the catalogue"):
        form.set_values(provenance=("nope", "import"))
    form.dbclient = DBClient("postgresql://nobody@127.0.0.1:1/none", timeout=1)
    assert form.search() is False
    assert "search failed" in form.status.value and "Traceback" not in form.status.value
    form.dbclient.close()


def test_selecting_a_row_opens_the_image_centred(form, sim_survey):
    from snapscope.widgets._open import LINKED_LABEL

    form.set_values(position=f"{sim_survey.sn_ra} {sim_survey.sn_dec}", bands=["Y106"])
    form.search()
    form.table.selected = [3]
    image = form.images[3]
    assert form.selected_image is image
    assert form.viewer.get_image(LINKED_LABEL) is image
    center = form.viewer.get_viewport(image_label=LINKED_LABEL)["center"]
    assert (center.ra.deg, center.dec.deg) == pytest.approx((sim_survey.sn_ra, sim_survey.sn_dec),
                                                            abs=1e-6)
    form.footprints.value = True
    marks = form.viewer.get_catalog("footprints")
    assert len(marks) == 4 * 24 * len(form.images)
    form.footprints.value = False
    assert "footprints" not in form.viewer.catalog_labels
