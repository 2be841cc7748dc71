import { describe, expect, it } from "vitest";
import { colorbarRgba, formatTick, niceStep, ticks } from "../src/ui/colorbar";
import { grayLut } from "../src/render/colormaps";
import type { DisplayState } from "../src/render/types";

describe("colorbar ticks", () => {
  it("steps 1-2-5 times a power of ten", () => {
    expect(niceStep(100, 5)).toBe(20);
    expect(niceStep(160, 5)).toBe(50);
    expect(niceStep(0.9, 4)).toBeCloseTo(0.5, 15);
    expect(niceStep(1, 10)).toBeCloseTo(0.1, 15);
  });
  it("labels round values inside the cuts, placed linearly", () => {
    const t = ticks(990, 1150, 5);
    expect(t.map((x) => x.label)).toEqual(["1000", "1050", "1100", "1150"]);
    expect(t.map((x) => x.value)).toEqual([1000, 1050, 1100, 1150]);
    expect(t[0].at).toBeCloseTo(10 / 160, 12);
    expect(t[3].at).toBe(1);
  });
  it("writes only the digits the step resolves (no 0.30000000000000004)", () => {
    expect(ticks(0.05, 0.95, 10).map((x) => x.label)).toEqual(["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"]);
    expect(ticks(-2.5, 2.5, 4).map((x) => x.label)).toEqual(["-2", "0", "2"]);
    expect(formatTick(1.5e6, 5e5)).toBe("1.5e+6");
    expect(formatTick(2e-4, 1e-4)).toBe("2e-4");
    expect(ticks(3e-5, 9e-5, 3).map((x) => x.value)).toEqual([4e-5, 6e-5, 8e-5]);
  });
  it("has no ticks for empty or non-finite ranges", () => {
    expect(ticks(1, 1, 5)).toEqual([]);
    expect(ticks(NaN, 1, 5)).toEqual([]);
    expect(ticks(0, Infinity, 5)).toEqual([]);
  });
});

describe("colorbar ramp", () => {
  const display = (name: string, params: number[]): DisplayState => ({
    vmin: 10, vmax: 20, lut: grayLut(), nan: [0, 0, 0, 0], version: 1, stretch: { name, params, lut: null },
  });
  it("shows the colour of the value at each pixel's centre through the stretch", () => {
    const linear = colorbarRgba(display("linear", [1, 0]), 4);
    expect(Array.from(linear.filter((_, i) => i % 4 === 0))).toEqual([32, 96, 160, 224]);
    const sqrt = colorbarRgba(display("sqrt", [0, 0]), 4);
    expect(sqrt[0]).toBe(Math.floor(Math.sqrt(0.125) * 256));
    expect(sqrt[3]).toBe(255);
  });
});
