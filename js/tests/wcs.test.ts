// WCS-grid interpolation in JS against astropy positions (fixture written by
// tests/unit/test_widget_fixtures.py, which checks the Python twin on the same points).
import { describe, expect, it } from "vitest";
import fixture from "./fixtures/wcs_cases.json";
import { separationArcsec, sexagesimal, WcsGrid } from "../src/wcs";

describe("WCS grid", () => {
  for (const c of fixture.cases) {
    const grid = new WcsGrid({ ...c.grid, xi: new Float64Array(c.grid.xi), eta: new Float64Array(c.grid.eta) });
    it(`${c.label}: pixel -> sky within 1 mas of astropy`, () => {
      let worst = 0;
      c.x.forEach((x, k) => {
        const [ra, dec] = grid.pixelToSky(x, c.y[k]);
        worst = Math.max(worst, separationArcsec(ra, dec, c.ra[k], c.dec[k]));
      });
      expect(worst).toBeLessThan(1e-3);
    });
    it(`${c.label}: sky -> pixel inverts it`, () => {
      c.x.forEach((x, k) => {
        const [px, py] = grid.skyToPixel(c.ra[k], c.dec[k], [c.x[c.x.length - 1], c.y[c.y.length - 1]]);
        expect(px).toBeCloseTo(x, 3);
        expect(py).toBeCloseTo(c.y[k], 3);
      });
    });
  }
  it("local frame of a north-up, east-left TAN grid", () => {
    const c = fixture.cases[0];
    const grid = new WcsGrid({ ...c.grid, xi: new Float64Array(c.grid.xi), eta: new Float64Array(c.grid.eta) });
    const f = grid.localFrame(2000, 2000);
    expect(f.scale).toBeGreaterThan(0.1);
    expect(f.scale).toBeLessThan(0.12);
    expect(Math.abs(f.north - Math.PI / 2)).toBeLessThan(0.01); // north is +y
    expect(Math.abs(Math.abs(f.east) - Math.PI)).toBeLessThan(0.01); // east is -x
  });
  it("formats sexagesimal with carries", () => {
    expect(sexagesimal(359.99999999, -0.5)).toEqual(["00:00:00.000", "-00:30:00.00"]);
    expect(sexagesimal(150.0, 2.25)).toEqual(["10:00:00.000", "+02:15:00.00"]);
  });
});
