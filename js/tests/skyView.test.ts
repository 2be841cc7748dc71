// Sky-locked views across pixel grids: a view in one TAN grid -> the equivalent view in grids
// rotated, shifted, scaled (and re-pointed) with respect to it, checked on screen points, and back.
import { describe, expect, it } from "vitest";
import { fromSky, toSky, wrapAngle } from "../src/link/skyView";
import type { ViewState } from "../src/view";
import { separationArcsec } from "../src/wcs";
import { tanGrid, type Tan } from "./support/tan";

const DEG = Math.PI / 180;

/** Image pixel under a screen offset (CSS px from the canvas centre, y down) of a rotated pane. */
function under(v: ViewState, rotation: number, dx: number, dy: number): [number, number] {
  const c = Math.cos(rotation), s = Math.sin(rotation);
  const u = dx / v.zoom, w = -dy / v.zoom;
  return [v.cx + c * u + s * w, v.cy - s * u + c * w];
}

const A: Tan = { crpix: [300, 200], crval: [150.1, 2.2], scale: 0.11, rotation: 0 };
const OTHERS: Record<string, Tan> = {
  "rotated 30°, shifted, scaled ×1.8": { crpix: [120, 340], crval: [150.1, 2.2], scale: 0.2, rotation: 30 },
  "rotated -120°, re-pointed 20″": { crpix: [420, 80], crval: [150.1055, 2.2021], scale: 0.11, rotation: -120 },
  "rotated 180°, scaled ×0.5": { crpix: [10, 15], crval: [150.0999, 2.2003], scale: 0.055, rotation: 180 },
};

describe("sky-linked views", () => {
  const a = tanGrid(A);
  const view: ViewState = { cx: 250.3, cy: 180.7, zoom: 1.7 };
  for (const [label, t] of Object.entries(OTHERS)) {
    const b = tanGrid(t);
    const sky = toSky(a, view);
    const pane = fromSky(b, sky, [300, 200]);
    it(`${label}: same centre, scale and orientation`, () => {
      const [ra, dec] = b.pixelToSky(pane.view.cx, pane.view.cy);
      expect(separationArcsec(ra, dec, sky.ra, sky.dec)).toBeLessThan(1e-6);
      expect(pane.view.zoom).toBeCloseTo(view.zoom * (t.scale / A.scale), 6);
      expect(wrapAngle(pane.rotation + t.rotation * DEG)).toBeCloseTo(0, 6); // turned back to north up
    });
    it(`${label}: every screen point shows the same sky in both panes`, () => {
      for (const [dx, dy] of [[-200, -150], [180, -90], [0, 140], [250, 160]]) {
        const [ra1, dec1] = a.pixelToSky(...under(view, 0, dx, dy));
        const [ra2, dec2] = b.pixelToSky(...under(pane.view, pane.rotation, dx, dy));
        expect(separationArcsec(ra1, dec1, ra2, dec2)).toBeLessThan(1e-3);
      }
    });
    it(`${label}: round trip back to the first grid`, () => {
      const back = fromSky(a, toSky(b, pane.view, pane.rotation), [0, 0]);
      expect(back.view.cx).toBeCloseTo(view.cx, 6);
      expect(back.view.cy).toBeCloseTo(view.cy, 6);
      expect(back.view.zoom).toBeCloseTo(view.zoom, 9);
      expect(back.rotation).toBeCloseTo(0, 9);
    });
  }
  it("wraps angles into (-π, π]", () => {
    expect(wrapAngle(3 * Math.PI)).toBeCloseTo(Math.PI, 12);
    expect(wrapAngle(-Math.PI / 2 - 4 * Math.PI)).toBeCloseTo(-Math.PI / 2, 12);
  });
});
