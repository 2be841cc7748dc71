// Percentile cuts from the quantile table against Python's astropy intervals on the same
// sample (tests/unit/test_widget_fixtures.py builds fixtures/quantile_cases.json).
import { describe, expect, it } from "vitest";
import fixture from "./fixtures/quantile_cases.json";
import { CUT_PERCENTILES, percentileLimits, presetOf, presetRange, quantilesFromTrait, valueAtPercentile } from "../src/ui/cuts";

const table = { p: fixture.p, q: Float64Array.from(fixture.q) };

describe("percentile cuts from the quantile table", () => {
  for (const c of fixture.cases) {
    it(`${c.percentile} % ${c.knot ? "equals" : "is bracketed by"} Python's limits`, () => {
      const [vmin, vmax] = percentileLimits(table, ...presetRange(c.percentile));
      if (c.knot) {
        // A preset is a knot: the very value np.percentile gave Python.
        expect(vmin).toBe(c.vmin);
        expect(vmax).toBe(c.vmax);
      } else {
        // Between knots: linear interpolation, within the values of the neighbouring knots.
        for (const [v, [lo, hi]] of [[vmin, c.brackets[0]], [vmax, c.brackets[1]]] as const) {
          expect(v).toBeGreaterThanOrEqual(lo);
          expect(v).toBeLessThanOrEqual(hi);
        }
      }
    });
  }
  it("every preset is in the fixture as a knot", () => {
    expect(fixture.cases.filter((c) => c.knot).map((c) => c.percentile)).toEqual(CUT_PERCENTILES);
  });
  it("reads the trait's float64 buffer and refuses percentiles outside the table", () => {
    const bytes = new Float64Array(fixture.q).buffer;
    const t = quantilesFromTrait({ p: fixture.p, q: new DataView(bytes) });
    expect(t && Array.from(t.q)).toEqual(fixture.q);
    expect(quantilesFromTrait(null)).toBeNull();
    expect(() => valueAtPercentile(table, 101)).toThrow(RangeError);
    expect(() => valueAtPercentile(table, NaN)).toThrow(RangeError);
  });
  it("keeps vmax above vmin for a flat sample", () => {
    const flat = { p: [0, 50, 100], q: Float64Array.from([5, 5, 5]) };
    const [lo, hi] = percentileLimits(flat, 0, 100);
    expect(lo).toBe(5);
    expect(hi).toBeGreaterThan(5);
  });
  it("names the preset of a cuts spec, as astropy computes the range", () => {
    expect(presetRange(99.9)).toEqual([(100 - 99.9) / 2, 99.95]);
    expect(presetOf({ kind: "percentile", lower: 0.5, upper: 99.5 })).toBe(99); // AIDA's default
    expect(presetOf({ kind: "percentile", lower: 0, upper: 100 })).toBe(100);
    expect(presetOf({ kind: "percentile", lower: 1, upper: 99.5 })).toBeNull();
    expect(presetOf({ kind: "manual" })).toBeNull();
  });
});
