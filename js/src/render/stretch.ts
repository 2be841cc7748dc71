// Cuts + stretch + colormap index: the same maths as the Python side (snapscope.tiles
// render_rgba, astropy.visualization stretches). `normalize` is the CPU version (used by the
// canvas fallback, the cursor and the tests); STRETCH_GLSL is the same code for the shader.
// Pipeline (astropy ImageNormalize with clip=True): t = (v - vmin) / (vmax - vmin) clipped
// to [0, 1]; s = stretch(t) clipped to [0, 1]; colour = lut[min(floor(s * 256), 255)]; NaN -> nan colour.

/** Stretch names (Python: widgets/_traits.py STRETCH_NAMES) and their shader ids. */
export const STRETCH_IDS: Record<string, number> = {
  linear: 0,
  sqrt: 1,
  power: 2,
  powerdist: 3,
  invpowerdist: 4,
  log: 5,
  invlog: 6,
  asinh: 7,
  sinh: 8,
  contrastbias: 9,
  lut: 10,
};

export interface StretchSpec {
  name: string;
  params: number[];
  lut: Float32Array | null;
}

function lutLookup(lut: Float32Array, t: number): number {
  const f = t * (lut.length - 1);
  const i = Math.min(Math.floor(f), lut.length - 2);
  return lut[i] + (lut[i + 1] - lut[i]) * (f - i);
}

/** The stretch function on an input already scaled by the cuts. */
export function stretch(spec: StretchSpec, t: number): number {
  const [a = 0, b = 0] = spec.params;
  t = Math.min(Math.max(t, 0), 1);
  switch (spec.name) {
    case "linear":
      return a * t + b;
    case "sqrt":
      return Math.sqrt(t);
    case "power":
      return Math.pow(t, a);
    case "powerdist":
      return (Math.pow(a, t) - 1) / (a - 1);
    case "invpowerdist":
      return Math.log(t * (a - 1) + 1) / Math.log(a);
    case "log":
      return Math.log(a * t + 1) / Math.log(a + 1);
    case "invlog":
      return (Math.exp(t * Math.log(a + 1)) - 1) / a;
    case "asinh":
      return Math.asinh(t / a) / Math.asinh(1 / a);
    case "sinh":
      return Math.sinh(t / a) / Math.sinh(1 / a);
    case "contrastbias":
      return (t - b) * a + 0.5;
    case "lut":
      return lutLookup(spec.lut as Float32Array, t);
    default:
      throw new Error(`unknown stretch ${spec.name}`);
  }
}

/** Value -> stretched value in [0, 1], or NaN for NaN input. */
export function normalize(v: number, vmin: number, vmax: number, spec: StretchSpec): number {
  if (Number.isNaN(v)) return NaN;
  const range = vmax > vmin ? vmax - vmin : 1e-30;
  const s = stretch(spec, (v - vmin) / range);
  return Math.min(Math.max(Number.isNaN(s) ? 0 : s, 0), 1);
}

/** Colormap index (0-255) of a stretched value, as matplotlib's Colormap.__call__. */
export function lutIndex(s: number): number {
  return Math.min(Math.floor(s * 256), 255);
}

export const STRETCH_GLSL = `
uniform int u_stretch;
uniform vec2 u_params;
uniform highp sampler2D u_stretchLut;
uniform int u_stretchLutSize;

float lutLookup(float t) {
  float f = t * float(u_stretchLutSize - 1);
  int i = min(int(floor(f)), u_stretchLutSize - 2);
  float lo = texelFetch(u_stretchLut, ivec2(i, 0), 0).r;
  float hi = texelFetch(u_stretchLut, ivec2(i + 1, 0), 0).r;
  return lo + (hi - lo) * (f - float(i));
}

float applyStretch(float t) {
  float a = u_params.x;
  float b = u_params.y;
  t = clamp(t, 0.0, 1.0);
  if (u_stretch == 0) return a * t + b;
  if (u_stretch == 1) return sqrt(t);
  if (u_stretch == 2) return pow(t, a);
  if (u_stretch == 3) return (pow(a, t) - 1.0) / (a - 1.0);
  if (u_stretch == 4) return log(t * (a - 1.0) + 1.0) / log(a);
  if (u_stretch == 5) return log(a * t + 1.0) / log(a + 1.0);
  if (u_stretch == 6) return (exp(t * log(a + 1.0)) - 1.0) / a;
  if (u_stretch == 7) return asinh(t / a) / asinh(1.0 / a);
  if (u_stretch == 8) return sinh(t / a) / sinh(1.0 / a);
  if (u_stretch == 9) return (t - b) * a + 0.5;
  return lutLookup(t);
}
`;
