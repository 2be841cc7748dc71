// Colorbar under the image: the colour of each data value from vmin (left) to vmax (right),
// through the current stretch and colormap, with ticks at round data values. The axis is
// linear in data units (as DS9's linear scale bar): a non-linear stretch shows as an uneven
// colour ramp, and tick values need no inverse of the stretch.
import { formatValue } from "../overlays/cursor";
import { lutIndex, normalize } from "../render/stretch";
import type { DisplayState } from "../render/types";
import { element } from "./dom";

export interface Tick {
  value: number;
  /** Position along the bar, 0 (vmin) to 1 (vmax). */
  at: number;
  label: string;
}

/** A 1-2-5 step giving at most `maxCount` intervals over `span`. */
export function niceStep(span: number, maxCount: number): number {
  const raw = span / Math.max(maxCount, 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5]) if (m * mag >= raw * (1 - 1e-12)) return m * mag;
  return 10 * mag;
}

/** Label of a tick value on a grid of `step`: just the digits the step resolves. */
export function formatTick(v: number, step: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || step < 1e-3) {
    const digits = Math.max(0, Math.floor(Math.log10(a)) - Math.floor(Math.log10(step) + 1e-9));
    return v.toExponential(Math.min(digits, 15));
  }
  return v.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}

/** Round data values within [vmin, vmax], with their positions and labels. */
export function ticks(vmin: number, vmax: number, maxCount: number): Tick[] {
  if (!(Number.isFinite(vmin) && Number.isFinite(vmax) && vmax > vmin)) return [];
  const step = niceStep(vmax - vmin, maxCount);
  const out: Tick[] = [];
  for (let k = Math.ceil(vmin / step - 1e-9); k * step <= vmax + step * 1e-9; k++) {
    const label = formatTick(k * step, step);
    const value = Number(label);
    out.push({ value, at: Math.min(Math.max((value - vmin) / (vmax - vmin), 0), 1), label });
  }
  return out;
}

/** RGBA of `n` bar pixels: pixel i shows the value at its centre, vmin + (i + 0.5) / n × range. */
export function colorbarRgba(d: DisplayState, n: number): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(4 * n);
  for (let i = 0; i < n; i++) {
    const s = normalize(d.vmin + ((i + 0.5) / n) * (d.vmax - d.vmin), d.vmin, d.vmax, d.stretch);
    const k = 4 * lutIndex(s);
    out.set(d.lut.subarray(k, k + 4), 4 * i);
  }
  return out;
}

/** The colorbar's DOM; `draw` is cheap to call every frame (it redraws only on a change). */
export class Colorbar {
  private ramp: HTMLCanvasElement;
  private labels: HTMLElement;
  private drawn = "";

  constructor(readonly el: HTMLElement) {
    this.ramp = element("canvas", { className: "snapscope-colorbar-ramp", height: 1 });
    this.labels = element("div", { className: "snapscope-colorbar-ticks" });
    el.append(this.ramp, this.labels);
  }

  draw(d: DisplayState | null, cmap: string): void {
    const width = this.el.clientWidth;
    const n = Math.max(1, Math.round(width * (window.devicePixelRatio || 1)));
    const stamp = d ? `${d.version}/${n}` : "none";
    if (stamp === this.drawn) return;
    this.drawn = stamp;
    this.el.hidden = !d;
    if (!d) return;
    this.ramp.width = n;
    const ctx = this.ramp.getContext("2d") as CanvasRenderingContext2D;
    ctx.putImageData(new ImageData(colorbarRgba(d, n), n, 1), 0, 0);
    this.labels.replaceChildren(
      ...ticks(d.vmin, d.vmax, Math.max(2, Math.floor(width / 80))).map((t) => {
        const span = element("span", { textContent: t.label });
        span.dataset.value = String(t.value);
        span.style.left = `${t.at * 100}%`;
        span.style.transform = `translateX(${-t.at * 100}%)`;
        return span;
      }),
    );
    Object.assign(this.el.dataset, { vmin: String(d.vmin), vmax: String(d.vmax), stretch: d.stretch.name, cmap });
    this.el.title = `${formatValue(d.vmin)} … ${formatValue(d.vmax)} (${d.stretch.name}, ${cmap})`;
  }
}
