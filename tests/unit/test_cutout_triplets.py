"""CutoutGrid's science / reference / difference view of every epoch, and its exports (FITS with
every plane, a PNG sheet, an animated GIF over epochs), against snapscope.diff called directly."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hostedsurvey import EXPLOSION

from snapscope.image import OpenUniverse2024FITSImage
from snapscope.widgets import CutoutGrid

pytest.importorskip("reproject")


def _decode(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


@pytest.fixture(scope="module")
def setup(hosted_survey, hosted_psfs):
    from snapscope import diff

    sn = hosted_survey.exposures[0]["hosted"][0]
    position = (sn["ra"], sn["dec"])
    images = [OpenUniverse2024FITSImage(full_filepath=e["path"]) for e in hosted_survey.exposures]
    y106 = [im for im in images if im.band == "Y106"]
    ref = diff.build_reference(y106, position, hosted_psfs, band="Y106", before=EXPLOSION)
    return images, position, {"Y106": ref}, hosted_psfs


@pytest.fixture(scope="module")
def grid(setup):
    images, position, refs, psfs = setup
    grid = CutoutGrid(size=31, page_size=6)
    grid.show(images[:10], position, reference=refs, psf=psfs)
    return grid


def test_each_epoch_is_a_row_of_science_reference_difference(grid, setup):
    from snapscope import diff
    from snapscope.tiles import render_rgba

    images, position, refs, psfs = setup
    assert grid.view.value == "triplets" and not grid.view.disabled
    assert grid.view.layout.display == ""  # the switch shows only when there is a reference
    assert grid.thumbnails.columns == 3
    shown = grid.images[:6]
    assert len(grid.thumbnails.items) == 3 * 10 and len(grid.thumbnails.images) == 30
    captions = [item["caption"].split("\n")[1] for item in grid.thumbnails.items[:3]]
    assert captions == ["science", "reference", "difference"]
    for i, image in enumerate(shown):
        d = grid.differences[i]
        if image.band != "Y106":
            assert d is None and grid.difference_errors[i] == "no reference for band H158"
            assert grid.thumbnails.items[3 * i + 2]["error"] == "failed"
            continue
        direct = diff.difference(image, refs, psfs, size=31)
        np.testing.assert_array_equal(d.image.data, direct.image.data)
        np.testing.assert_array_equal(d.reference_stamp.data, direct.reference_stamp.data)
        science, reference, difference = (_decode(grid.thumbnails.images[3 * i + k]) for k in range(3))
        good = (direct.image.flags == 0)[::-1]
        expected = render_rgba(direct.science_stamp.data, *grid.get_cuts(), "linear", "gray")[::-1]
        np.testing.assert_array_equal(science[good], expected[good])
        assert science.shape == reference.shape == difference.shape == (31, 31, 4)
    # the epochs past the first page are not made until asked for
    assert all(d is None for d in grid.differences[6:]) and all(c is None for c in grid.cutouts[6:])


def test_science_and_reference_share_cuts_differences_their_own(grid):
    from astropy.visualization import ZScaleInterval

    made = [d for d in grid.differences if d is not None]
    sides = np.concatenate([s.data[np.isfinite(s.data) & (s.flags == 0)]
                            for d in made for s in (d.science_stamp, d.reference_stamp)])
    assert grid.get_cuts() == pytest.approx(ZScaleInterval().get_limits(sides.astype(float)))
    grid.set_cuts((900.0, 1300.0))
    try:
        epoch = next(i for i, d in enumerate(grid.differences) if d is not None)
        difference = _decode(grid.thumbnails.images[3 * epoch + 2])
        from snapscope.tiles import render_rgba

        d = grid.differences[epoch]
        good = (d.image.flags == 0)[::-1]
        expected = render_rgba(d.image.data, -200.0, 200.0, "linear", "gray")[::-1]
        np.testing.assert_array_equal(difference[good], expected[good])
    finally:
        grid.set_cuts("zscale")


def test_switching_views_and_clicks_map_to_epochs(grid):
    grid.view.value = "cutouts"
    assert grid.thumbnails.columns == 0 and len(grid.thumbnails.images) == 10
    grid.view.value = "triplets"
    grid.thumbnails.click(3 * 2 + 1)  # the reference of the third epoch
    assert grid.selected_key == grid.image_keys[2]
    grid.highlighted_key = grid.image_keys[1]
    assert grid.thumbnails.highlighted == 3 * 1 + 2


def test_saves_every_plane_a_sheet_and_an_animation(grid, tmp_path):
    from astropy.io import fits
    from PIL import Image

    path = grid.save(tmp_path / "epochs.fits")
    assert all(c is not None or e for c, e in zip(grid.cutouts, grid.errors, strict=True))
    made = [(im, d) for im, d in zip(grid.images, grid.differences, strict=True) if d is not None]
    with fits.open(path) as hdul:
        assert hdul[0].header["NCUTOUT"] == len(made) == 5
        for ver, (_, d) in enumerate(made, start=1):
            np.testing.assert_array_equal(hdul["DIFF", ver].data, d.image.data)
            np.testing.assert_array_equal(hdul["REF", ver].data, d.reference_stamp.data)
    png = Image.open(grid.save(tmp_path / "epochs.png"))
    assert png.size == (3 * 31 + 2 * 2, len(made) * 31 + (len(made) - 1) * 2)
    gif = Image.open(grid.save(tmp_path / "epochs.gif", duration_ms=300))
    assert gif.n_frames == len(made) and gif.info["duration"] == 300
    assert gif.size == (4 * (3 * 31 + 2 * 2), 4 * 31)
    with pytest.raises(FileExistsError):
        grid.save(tmp_path / "epochs.png")
    with pytest.raises(ValueError, match="ending in one of"):
        grid.save(tmp_path / "epochs.jpg")
    grid.filename.value = str(tmp_path / "button.gif")
    grid._save_clicked()  # the button: a status line, never a traceback
    assert "saved" in grid.status.value and (tmp_path / "button.gif").exists()
    grid.filename.value = str(tmp_path / "button.txt")
    grid._save_clicked()
    assert "not saved" in grid.status.value


def test_a_reference_needs_psfs(setup):
    images, position, refs, _ = setup
    with pytest.raises(ValueError, match="psf="):
        CutoutGrid().show(images[:2], position, reference=refs)
    plain = CutoutGrid()
    plain.show(images[:2], position)
    assert plain.view.disabled and plain.view.value == "cutouts"
    assert plain.view.layout.display == "none"
