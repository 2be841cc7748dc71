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

/**
 * RGBA (0-255) of a CSS custom property such as a --jp-* theme colour, resolved by the browser
 * on a hidden probe element inside `el` (no canvas read-back, so it is cheap to call often).
 */
export function themeRgba(el: Element, name: string, fallback: string): [number, number, number, number] {
  let probe = el.querySelector(":scope > .snapscope-probe") as HTMLElement | null;
  if (!probe) {
    probe = document.createElement("span");
    probe.className = "snapscope-probe";
    probe.style.display = "none";
    el.append(probe);
  }
  probe.style.color = `var(${name}, ${fallback})`;
  const m = getComputedStyle(probe).color.match(/[\d.]+/g) ?? [];
  const [r = 128, g = 128, b = 128] = m.slice(0, 3).map(Number);
  const a = m.length > 3 ? Math.round(Number(m[3]) * 255) : 255;
  return [r, g, b, a];
}
