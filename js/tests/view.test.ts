import { describe, expect, it } from "vitest";
import * as V from "../src/view";
import type { ImageTrait } from "../src/model";

const img: ImageTrait = {
  key: "k", label: "a", width: 1000, height: 600, tile_size: 256,
  levels: [[600, 1000], [300, 500], [150, 250]], has_mask: false, wcs: null, quantiles: null,
};
const size = { width: 400, height: 300, dpr: 1 };

describe("view maths", () => {
  it("round-trips screen and image coordinates", () => {
    const v = { cx: 10, cy: 20, zoom: 2.5 };
    const [sx, sy] = V.imageToScreen(v, size, 33.3, -4);
    const [x, y] = V.screenToImage(v, size, sx, sy);
    expect(x).toBeCloseTo(33.3, 12);
    expect(y).toBeCloseTo(-4, 12);
    expect(V.imageToScreen(v, size, 10, 21)[1]).toBeLessThan(150); // y is up
  });
  it("turns the image counter-clockwise on screen, and back", () => {
    const v = { cx: 10, cy: 20, zoom: 2, rot: Math.PI / 2 };
    // +x of the image points up on screen (y down) after a quarter turn
    const [sx, sy] = V.imageToScreen(v, size, 11, 20);
    expect(sx).toBeCloseTo(200, 12);
    expect(sy).toBeCloseTo(148, 12);
    const [x, y] = V.screenToImage({ ...v, rot: 0.7 }, size, ...V.imageToScreen({ ...v, rot: 0.7 }, size, 33.3, -4));
    expect(x).toBeCloseTo(33.3, 12);
    expect(y).toBeCloseTo(-4, 12);
  });
  it("pans and zooms a turned view so the image follows the mouse", () => {
    const v = { cx: 100, cy: 80, zoom: 1.5, rot: 0.6 };
    const p = V.screenToImage(v, size, 120, 90);
    const panned = V.panBy(v, size, 30, -12);
    const q = V.screenToImage(panned, size, 150, 78);
    expect(q[0]).toBeCloseTo(p[0], 9);
    expect(q[1]).toBeCloseTo(p[1], 9);
    const zoomed = V.zoomAbout(v, size, 2.5, 120, 90);
    expect(zoomed.rot).toBe(0.6);
    const r = V.screenToImage(zoomed, size, 120, 90);
    expect(r[0]).toBeCloseTo(p[0], 9);
    expect(r[1]).toBeCloseTo(p[1], 9);
  });
  it("lists the tiles under every corner of a turned view", () => {
    const v = { cx: 600, cy: 300, zoom: 1, rot: Math.PI / 4 };
    const [x0, y0, x1, y1] = V.visibleBounds(v, size);
    expect(x1 - x0).toBeCloseTo((400 + 300) / Math.SQRT2, 9);
    expect(y1 - y0).toBeCloseTo((400 + 300) / Math.SQRT2, 9);
    expect(V.visibleTiles(img, v, size, 0).length).toBe(9); // x 352..848, y 52..548: columns 1-3, rows 0-2
  });
  it("fits the whole image and picks the level closest to screen pixels", () => {
    const v = V.fitView(img, size);
    expect(V.zoomToFov(v.zoom, size)).toBeCloseTo(1000);
    expect(V.levelFor(img, v, size)).toBe(2);
    expect(V.levelFor(img, { ...v, zoom: 1 }, size)).toBe(0);
    expect(V.levelFor(img, { ...v, zoom: 0.5 }, { ...size, dpr: 2 })).toBe(0);
  });
  it("zooms about a fixed point", () => {
    const v = { cx: 100, cy: 100, zoom: 1 };
    const before = V.screenToImage(v, size, 50, 60);
    const after = V.screenToImage(V.zoomAbout(v, size, 3, 50, 60), size, 50, 60);
    expect(after[0]).toBeCloseTo(before[0], 9);
    expect(after[1]).toBeCloseTo(before[1], 9);
  });
  it("lists visible tiles nearest to the centre first, with exact bounds", () => {
    const tiles = V.visibleTiles(img, { cx: 600, cy: 300, zoom: 1 }, size, 0);
    expect(tiles[0]).toEqual([2, 1]);
    expect(tiles.length).toBe(6); // x 400..800 -> columns 1-3, y 150..450 -> rows 0-1
    expect(V.tileBounds(img, 1, 1, 1)).toEqual([511.5, 511.5, 999.5, 599.5]);
    expect(V.tileCount(img, 0)).toEqual([4, 3]);
  });
});
