// Display-control edits -> the `_displays` trait Python reads back (widgets/_display.py).
import { describe, expect, it } from "vitest";
import type { DisplayTrait } from "../src/model";
import { presetRange } from "../src/ui/cuts";
import { applyEdit, controlValues, reversedLut, STRETCH_CHOICES, type DisplayEdit } from "../src/ui/displayState";

function lut(seed: number): DataView {
  const a = new Uint8Array(1024);
  for (let i = 0; i < 1024; i++) a[i] = (i * seed) % 251;
  return new DataView(a.buffer);
}
const bytes = (dv: DataView) => Array.from(new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength));

const gray = lut(1), viridis = lut(7);
const base: DisplayTrait = {
  vmin: 1, vmax: 2, cmap: "gray", cmap_lut: gray,
  stretch: { name: "linear", params: [1, 0], lut: null },
  cuts: { kind: "percentile", lower: 0.5, upper: 99.5 },
};
const ctx = {
  quantiles: { p: [0, 0.5, 50, 99.5, 100], q: Float64Array.from([-5, 0, 10, 20, 99]) },
  colormaps: { gray, viridis },
};

describe("display edits", () => {
  it("percentile presets take limits from the quantile table and say which interval", () => {
    const d = applyEdit(base, { kind: "percentile", percentile: 100 }, ctx);
    expect([d.vmin, d.vmax]).toEqual([-5, 99]);
    expect(d.cuts).toEqual({ kind: "percentile", lower: 0, upper: 100 });
    const [lower, upper] = presetRange(99);
    expect(applyEdit(base, { kind: "percentile", percentile: 99 }, ctx)).toMatchObject({ vmin: 0, vmax: 20, cuts: { lower, upper } });
    // No table (no finite pixel): the spec changes, the limits come from Python.
    expect(applyEdit(base, { kind: "percentile", percentile: 90 }, { ...ctx, quantiles: null })).toMatchObject({ vmin: 1, vmax: 2, cuts: { lower: 5, upper: 95 } });
  });
  it("typed limits are manual cuts, and must be finite and increasing", () => {
    expect(applyEdit(base, { kind: "limits", vmin: -3, vmax: 7.5 }, ctx)).toMatchObject({ vmin: -3, vmax: 7.5, cuts: { kind: "manual" } });
    expect(() => applyEdit(base, { kind: "limits", vmin: 3, vmax: 3 }, ctx)).toThrow(RangeError);
    expect(() => applyEdit(base, { kind: "limits", vmin: NaN, vmax: 3 }, ctx)).toThrow(RangeError);
  });
  it("stretches carry astropy's default parameters", () => {
    for (const [name, params] of Object.entries(STRETCH_CHOICES)) {
      expect(applyEdit(base, { kind: "stretch", name }, ctx).stretch).toEqual({ name, params, lut: null });
    }
    expect(STRETCH_CHOICES.asinh).toEqual([0.1, 0]);
    expect(() => applyEdit(base, { kind: "stretch", name: "lut" }, ctx)).toThrow(/unknown stretch/);
  });
  it("colormap and invert pick the table, reversed for '_r', keeping the other setting", () => {
    const v = applyEdit(base, { kind: "cmap", name: "viridis" }, ctx);
    expect(v.cmap).toBe("viridis");
    expect(bytes(v.cmap_lut)).toEqual(bytes(viridis));
    const vr = applyEdit(v, { kind: "invert", inverted: true }, ctx);
    expect(vr.cmap).toBe("viridis_r");
    expect(bytes(vr.cmap_lut).slice(0, 4)).toEqual(bytes(viridis).slice(1020, 1024));
    expect(applyEdit(vr, { kind: "cmap", name: "gray" }, ctx).cmap).toBe("gray_r");
    expect(bytes(applyEdit(vr, { kind: "invert", inverted: false }, ctx).cmap_lut)).toEqual(bytes(viridis));
    // A colormap set from Python (not in the control's tables) reverses its own table.
    const hot = { ...base, cmap: "hot", cmap_lut: lut(3) };
    expect(bytes(applyEdit(hot, { kind: "invert", inverted: true }, ctx).cmap_lut)).toEqual(bytes(reversedLut(lut(3))));
    expect(() => applyEdit(base, { kind: "cmap", name: "jet" }, ctx)).toThrow(/unknown colormap/);
  });
  it("leaves the input trait alone and refuses unknown edits", () => {
    const before = JSON.stringify(base);
    applyEdit(base, { kind: "percentile", percentile: 95 }, ctx);
    applyEdit(base, { kind: "cmap", name: "viridis" }, ctx);
    expect(JSON.stringify(base)).toBe(before);
    expect(() => applyEdit(base, { kind: "zoom" } as unknown as DisplayEdit, ctx)).toThrow(/unknown display edit/);
  });
  it("shows the trait in the control", () => {
    expect(controlValues(base)).toEqual({ preset: 99, vmin: 1, vmax: 2, stretch: "linear", cmap: "gray", inverted: false });
    expect(controlValues({ ...base, cmap: "magma_r", cuts: { kind: "manual" } })).toMatchObject({ preset: null, cmap: "magma", inverted: true });
  });
});
