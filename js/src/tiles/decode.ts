// Tile buffer -> Float32Array of values: the JS twin of snapscope.tiles.decode_tile. The header
// is encode_tile's: dtype float32 | float16 (little-endian, row 0 first), value = stored * scale
// (scale != 1 only for float16 tiles beyond the float16 range). Compressed tiles
// (compression "zlib", see snapscope/tiles/_encode.py) are inflated synchronously with fflate
// (the browser's DecompressionStream is asynchronous: a first picture would wait for later
// event-loop turns, ~0.08 s in JupyterLab, where the inflate itself takes ~1 ms), unshuffled,
// and their zigzag-coded order keys (minus `base`) turned back into the value bits.

import { unzlibSync } from "fflate";

/** encode_tile's header: only what decoding needs (Python: widgets/_state.py TileReply). */
export interface TileHeader {
  dtype: string;
  shape: [number, number];
  scale?: number;
  compression?: string;
  /** Bytes were shuffled (all byte 0s, then all byte 1s…) with this item size. */
  shuffle?: number;
  /** Median order key: the payload holds zigzag(key - base) instead of the value bits. */
  base?: number;
}

/** Undo the byte shuffle of compressed tiles. */
export function unshuffle(bytes: Uint8Array, itemsize: number): Uint8Array {
  const n = bytes.length / itemsize;
  const out = new Uint8Array(bytes.length);
  for (let b = 0; b < itemsize; b++) {
    const src = b * n;
    for (let i = 0; i < n; i++) out[i * itemsize + b] = bytes[src + i];
  }
  return out;
}

/**
 * Undo the residual coding of compressed tiles, in place: little-endian zigzag codes of
 * (order key - base) modulo 2**bits -> the value bits (keys sort like the values: positive
 * values have the sign bit set, negative ones all bits inverted).
 */
export function unzigzag(bytes: Uint8Array, itemsize: number, base: number): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (itemsize === 2) {
    for (let i = 0; i < bytes.length; i += 2) {
      const z = dv.getUint16(i, true);
      const key = (((z >>> 1) ^ -(z & 1)) + base) & 0xffff;
      dv.setUint16(i, key & 0x8000 ? key & 0x7fff : ~key & 0xffff, true);
    }
  } else if (itemsize === 4) {
    for (let i = 0; i < bytes.length; i += 4) {
      const z = dv.getUint32(i, true);
      const key = (((z >>> 1) ^ -(z & 1)) + base) >>> 0;
      dv.setUint32(i, key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0, true);
    }
  } else throw new Error(`cannot undo the residual coding of ${itemsize}-byte values`);
  return bytes;
}

/** IEEE 754 half -> float32, via a 65536-entry table built once. */
let HALF_TABLE: Float32Array | null = null;
function halfTable(): Float32Array {
  if (HALF_TABLE) return HALF_TABLE;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const f = h & 0x3ff;
    if (e === 0) t[h] = s * 2 ** -14 * (f / 1024);
    else if (e === 31) t[h] = f ? NaN : s * Infinity;
    else t[h] = s * 2 ** (e - 15) * (1 + f / 1024);
  }
  HALF_TABLE = t;
  return t;
}

export function halfToFloat(bits: number): number {
  return halfTable()[bits & 0xffff];
}

function bytesOf(buf: DataView | ArrayBuffer | Uint8Array): Uint8Array {
  if (buf instanceof Uint8Array) return buf;
  if (buf instanceof ArrayBuffer) return new Uint8Array(buf);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Decode raw (uncompressed) tile bytes. */
export function decodeRaw(header: TileHeader, raw: Uint8Array): Float32Array {
  const [h, w] = header.shape;
  const n = h * w;
  // Copy to an aligned buffer: the payload may start at any byte offset.
  const aligned = raw.byteOffset % 4 === 0 ? raw : raw.slice();
  const dv = new DataView(aligned.buffer, aligned.byteOffset, aligned.byteLength);
  const out = new Float32Array(n);
  const scale = header.scale ?? 1;
  switch (header.dtype) {
    case "float32":
      // No offset is added (adding 0 would turn -0 into +0, unlike decode_tile).
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true) * scale;
      break;
    case "float16": {
      const table = halfTable();
      for (let i = 0; i < n; i++) out[i] = table[dv.getUint16(2 * i, true)] * scale;
      break;
    }
    default:
      throw new Error(`unknown tile dtype ${header.dtype}`);
  }
  return out;
}

/** Decode a tile buffer (decompressing it first when the header says so). */
export function decodeTile(header: TileHeader, buf: DataView | ArrayBuffer | Uint8Array): Float32Array {
  let bytes = bytesOf(buf);
  if (header.compression === "zlib") bytes = unzlibSync(bytes);
  else if (header.compression) throw new Error(`unknown tile compression ${header.compression}`);
  if (header.shuffle && header.shuffle > 1) bytes = unshuffle(bytes, header.shuffle);
  if (header.base != null) bytes = unzigzag(bytes, header.shuffle ?? 1, header.base);
  return decodeRaw(header, bytes);
}
