// Colormap lookup tables: 256 RGBA entries sent by Python (tiles.colormap_lut of a matplotlib
// name), so the browser needs no colormap definitions of its own; gray is the fallback.

export type Lut = Uint8Array; // 256 * 4

export function grayLut(): Lut {
  const lut = new Uint8Array(1024);
  for (let i = 0; i < 256; i++) lut.set([i, i, i, 255], 4 * i);
  return lut;
}

export function lutFromTrait(dv: DataView | null | undefined): Lut {
  if (!dv || dv.byteLength !== 1024) return grayLut();
  return new Uint8Array(dv.buffer.slice(dv.byteOffset, dv.byteOffset + 1024));
}

/** CSS colour for NaN / masked-out pixels and outside the image, from the theme. */
export function themeColor(el: Element, name: string, fallback: string): string {
  const v = getComputedStyle(el).getPropertyValue(name).trim();
  return v || fallback;
}

/** Parse a CSS colour to RGBA 0-255 using a 1×1 canvas (works for any CSS syntax). */
export function cssToRgba(color: string): [number, number, number, number] {
  const c = document.createElement("canvas");
  c.width = c.height = 1;
  const ctx = c.getContext("2d");
  if (!ctx) return [128, 128, 128, 255];
  ctx.fillStyle = color;
  ctx.fillRect(0, 0, 1, 1);
  const d = ctx.getImageData(0, 0, 1, 1).data;
  return [d[0], d[1], d[2], d[3]];
}
