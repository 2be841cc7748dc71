// What the display control does to a display trait: pure functions from (trait, edit) to the
// new trait the viewer writes back into `_displays` (repainting at once; Python then turns it
// into astropy objects, see widgets/_display.py), and from a trait to what the control shows.
import type { DisplayTrait } from "../model";
import { percentileLimits, presetOf, presetRange, type Quantiles } from "./cuts";

/** Stretches the control offers, with astropy's default parameters (as _traits.stretch_spec
 * sends them). contrastbias has no defaults and "lut" no astropy class to go back to. */
export const STRETCH_CHOICES: Record<string, [number, number]> = {
  linear: [1, 0],
  sqrt: [0, 0],
  power: [2, 0],
  log: [1000, 0],
  asinh: [0.1, 0],
  sinh: [1 / 3, 0],
  powerdist: [1000, 0],
  invpowerdist: [1000, 0],
  invlog: [1000, 0],
};

export type DisplayEdit =
  | { kind: "percentile"; percentile: number }
  | { kind: "limits"; vmin: number; vmax: number }
  | { kind: "stretch"; name: string }
  | { kind: "cmap"; name: string }
  | { kind: "invert"; inverted: boolean };

export interface EditContext {
  /** The displayed image's quantile table (null: no finite pixel). */
  quantiles: Quantiles | null;
  /** The `_colormaps` trait: name -> 256 × RGBA. */
  colormaps: Record<string, DataView>;
}

/** What the control shows for a display. */
export interface ControlValues {
  /** The percentile preset, or null for other cuts. */
  preset: number | null;
  vmin: number;
  vmax: number;
  stretch: string;
  /** Colormap name without its "_r". */
  cmap: string;
  inverted: boolean;
}

export function splitCmap(name: string): [string, boolean] {
  return name.endsWith("_r") ? [name.slice(0, -2), true] : [name, false];
}

/** A 256 × RGBA table in reverse order (matplotlib's "_r" of a 256-entry colormap). */
export function reversedLut(dv: DataView): DataView {
  const src = new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength);
  const out = new Uint8Array(src.length);
  const n = src.length / 4;
  for (let i = 0; i < n; i++) out.set(src.subarray(4 * (n - 1 - i), 4 * (n - i)), 4 * i);
  return new DataView(out.buffer);
}

export function controlValues(d: DisplayTrait): ControlValues {
  const [cmap, inverted] = splitCmap(d.cmap);
  return { preset: presetOf(d.cuts), vmin: d.vmin, vmax: d.vmax, stretch: d.stretch.name, cmap, inverted };
}

/** The colormap `base` (reversed when `inverted`), from the control's tables or the display's own. */
function colormap(d: DisplayTrait, base: string, inverted: boolean, ctx: EditContext): Pick<DisplayTrait, "cmap" | "cmap_lut"> {
  const [curBase, curInverted] = splitCmap(d.cmap);
  let lut: DataView;
  if (base === curBase) lut = curInverted === inverted ? d.cmap_lut : reversedLut(d.cmap_lut);
  else if (ctx.colormaps[base]) lut = inverted ? reversedLut(ctx.colormaps[base]) : ctx.colormaps[base];
  else throw new Error(`unknown colormap ${base}`);
  return { cmap: inverted ? `${base}_r` : base, cmap_lut: lut };
}

/** The display after one control edit (a new object; `d` is not changed). */
export function applyEdit(d: DisplayTrait, e: DisplayEdit, ctx: EditContext): DisplayTrait {
  switch (e.kind) {
    case "percentile": {
      const [lower, upper] = presetRange(e.percentile);
      const cuts = { kind: "percentile" as const, lower, upper };
      // Without a table (no finite pixel) the limits stay: Python's answer brings them.
      if (!ctx.quantiles) return { ...d, cuts };
      const [vmin, vmax] = percentileLimits(ctx.quantiles, lower, upper);
      return { ...d, vmin, vmax, cuts };
    }
    case "limits":
      if (!(Number.isFinite(e.vmin) && Number.isFinite(e.vmax) && e.vmax > e.vmin)) {
        throw new RangeError(`cuts need finite min < max, got ${e.vmin}, ${e.vmax}`);
      }
      return { ...d, vmin: e.vmin, vmax: e.vmax, cuts: { kind: "manual" } };
    case "stretch": {
      const params = STRETCH_CHOICES[e.name];
      if (!params) throw new Error(`unknown stretch ${e.name}`);
      return { ...d, stretch: { name: e.name, params: [...params], lut: null } };
    }
    case "cmap":
      return { ...d, ...colormap(d, e.name, splitCmap(d.cmap)[1], ctx) };
    case "invert":
      return { ...d, ...colormap(d, splitCmap(d.cmap)[0], e.inverted, ctx) };
    default:
      throw new Error(`unknown display edit ${JSON.stringify(e satisfies never)}`);
  }
}
