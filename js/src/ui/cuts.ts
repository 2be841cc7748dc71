// Percentile cuts in the browser, from the quantile table Python sends once per image
// (_images[key].quantiles; Python: widgets/_traits.py sample_quantiles). The presets are knots
// of the table, so their limits are Python's PercentileInterval limits exactly; between knots
// the table is interpolated linearly.
import { float64s, type QuantilesTrait } from "../model";

/** Percentile presets of the display control (100: min/max). Twin of CUT_PERCENTILES in
 * src/snapscope/widgets/_traits.py (tests/unit/test_widget_protocol.py compares them). */
export const CUT_PERCENTILES = [90, 95, 99, 99.5, 99.9, 100];

/** Which interval made an image's limits (Python: _traits.py cuts_spec). */
export type CutsSpec =
  | { kind: "percentile"; lower: number; upper: number }
  | { kind: "manual" }
  | { kind: "other"; name: string };

export interface Quantiles {
  /** Percentiles (0-100), increasing. */
  p: number[];
  /** The sample's values at p. */
  q: Float64Array;
}

export function quantilesFromTrait(t: QuantilesTrait | null | undefined): Quantiles | null {
  return t ? { p: t.p, q: float64s(t.q) } : null;
}

/** The sample's value at percentile `pct`: exact at a knot, linear between knots. */
export function valueAtPercentile(t: Quantiles, pct: number): number {
  const { p, q } = t;
  if (!(pct >= p[0] && pct <= p[p.length - 1])) throw new RangeError(`percentile ${pct} outside ${p[0]}-${p[p.length - 1]}`);
  let lo = 0, hi = p.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (p[mid] <= pct) lo = mid;
    else hi = mid;
  }
  if (p[lo] === pct) return q[lo];
  if (p[hi] === pct) return q[hi];
  return q[lo] + ((q[hi] - q[lo]) * (pct - p[lo])) / (p[hi] - p[lo]);
}

/** The percentile range of a symmetric preset, as astropy's PercentileInterval computes it. */
export function presetRange(percentile: number): [number, number] {
  return [(100 - percentile) / 2, (100 + percentile) / 2];
}

/** vmin, vmax of a percentile range; vmax > vmin always (as Python's compute_limits). */
export function percentileLimits(t: Quantiles, lower: number, upper: number): [number, number] {
  const lo = valueAtPercentile(t, lower);
  let hi = valueAtPercentile(t, upper);
  if (!(hi > lo)) hi = lo + Math.max(Math.abs(lo) * 1e-6, 1e-12);
  return [lo, hi];
}

/** The preset a cuts spec is (e.g. 99 for 0.5-99.5), or null. */
export function presetOf(spec: CutsSpec | undefined): number | null {
  if (!spec || spec.kind !== "percentile") return null;
  for (const p of CUT_PERCENTILES) {
    const [lo, hi] = presetRange(p);
    if (Math.abs(spec.lower - lo) < 1e-9 && Math.abs(spec.upper - hi) < 1e-9) return p;
  }
  return null;
}
