// The shader's CPU twin against the numbers of tests/unit/test_widget_fixtures.py, which checks
// the same cases against snapscope.tiles.render_rgba.
import { describe, expect, it } from "vitest";
import fixture from "./fixtures/stretch_cases.json";
import { lutIndex, normalize } from "../src/render/stretch";

describe("stretch maths agree with Python", () => {
  for (const c of fixture.cases) {
    it(c.label, () => {
      const spec = { name: c.name, params: c.params, lut: c.lut ? new Float32Array(c.lut) : null };
      fixture.values.forEach((v, k) => {
        const s = normalize(v === null ? NaN : v, fixture.vmin, fixture.vmax, spec);
        const expected = c.s[k];
        if (expected === null) {
          expect(Number.isNaN(s)).toBe(true);
          return;
        }
        // The LUT fallback interpolates 4096 samples; analytic stretches are exact.
        expect(s).toBeCloseTo(expected, c.name === "lut" ? 3 : 9);
        if (c.name !== "lut") expect(lutIndex(s)).toBe(c.index[k]);
        else expect(Math.abs(lutIndex(s) - (c.index[k] as number))).toBeLessThanOrEqual(1);
      });
    });
  }
});
