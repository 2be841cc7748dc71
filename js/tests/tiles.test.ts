import { describe, expect, it } from "vitest";
import { decodeRaw, decodeTile, halfToFloat, type TileHeader } from "../src/tiles/decode";
import fixture from "./fixtures/tile_cases.json";
import { Scheduler } from "../src/tiles/scheduler";
import { TileCache, type Tile } from "../src/tiles/cache";
import type { TileAddress } from "../src/protocol";

const addr = (tx: number, ty = 0, level = 0): TileAddress => ({ key: "k", plane: "data", level, tx, ty });

describe("decode", () => {
  it("converts IEEE half floats", () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0001)).toBeCloseTo(5.96e-8, 10);
    expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
  });
  it("applies the header's scale to float16 tiles", () => {
    const raw = new Uint8Array(new Uint16Array([0x3c00, 0x7e00, 0x4000, 0x0000]).buffer);
    const v = decodeRaw({ dtype: "float16", shape: [2, 2], scale: 4 }, raw);
    expect(Array.from(v)).toEqual([4, NaN, 8, 0]);
  });
  it("reads float32 at any byte offset and zlib-compressed payloads", async () => {
    const f = new Float32Array([1.5, -2.25, NaN]);
    const padded = new Uint8Array(13);
    padded.set(new Uint8Array(f.buffer), 1);
    const v = decodeRaw({ dtype: "float32", shape: [1, 3] }, padded.subarray(1));
    expect(Array.from(v)).toEqual([1.5, -2.25, NaN]);
    const stream = new Blob([f.buffer]).stream().pipeThrough(new CompressionStream("deflate"));
    const zipped = new Uint8Array(await new Response(stream).arrayBuffer());
    const z = decodeTile({ dtype: "float32", shape: [1, 3], compression: "zlib" }, zipped);
    expect(Array.from(z)).toEqual([1.5, -2.25, NaN]);
  });
  it("undoes the byte shuffle of compressed float16 tiles", async () => {
    const halves = new Uint8Array(new Uint16Array([0x3c00, 0x4000, 0x7e00]).buffer); // 1, 2, NaN
    const shuffled = new Uint8Array([halves[0], halves[2], halves[4], halves[1], halves[3], halves[5]]);
    const stream = new Blob([shuffled]).stream().pipeThrough(new CompressionStream("deflate"));
    const zipped = new Uint8Array(await new Response(stream).arrayBuffer());
    const v = decodeTile({ dtype: "float16", shape: [1, 3], compression: "zlib", shuffle: 2 }, zipped);
    expect(Array.from(v)).toEqual([1, 2, NaN]);
  });
  // The same payloads as tests/unit/test_widget_fixtures.py, which decodes them with
  // snapscope.tiles.decode_tile: both must give these float32 bits.
  for (const c of fixture.cases) {
    it(`decodes the compressed ${c.label} tile to Python's bits`, () => {
      const payload = Uint8Array.from(atob(c.payload), (ch) => ch.charCodeAt(0));
      const header = { ...c.header, shape: [c.header.shape[0], c.header.shape[1]] } as TileHeader;
      const values = decodeTile(header, payload);
      expect(Array.from(new Uint32Array(values.buffer))).toEqual(c.bits);
    });
  }
  it("rejects unknown dtypes", () => {
    expect(() => decodeRaw({ dtype: "int64", shape: [1, 1] }, new Uint8Array(8))).toThrow(/dtype/);
  });
});

describe("scheduler", () => {
  function setup(max = 2) {
    const sent: any[] = [];
    let now = 0;
    const s = new Scheduler((m) => sent.push(m), max, 1000, () => now);
    return { s, sent, advance: (ms: number) => (now += ms) };
  }
  it("requests wanted tiles in order, at most maxInflight", () => {
    const { s, sent } = setup();
    s.update([addr(0), addr(1), addr(2)], () => false);
    expect(sent.map((m) => [m.kind, m.id, m.tx])).toEqual([["tile", 1, 0], ["tile", 2, 1]]);
    s.resolve(addr(0));
    s.update([addr(0), addr(1), addr(2)], (a) => a.tx === 0);
    expect(sent.at(-1)).toMatchObject({ kind: "tile", id: 3, tx: 2 });
  });
  it("cancels requests that left the view", () => {
    const { s, sent } = setup(4);
    s.update([addr(0), addr(1)], () => false);
    s.update([addr(1), addr(5)], () => false);
    expect(sent[2]).toEqual({ kind: "cancel", ids: [1] });
    expect(sent[3]).toMatchObject({ kind: "tile", tx: 5 });
    expect(s.stats.cancelled).toBe(1);
  });
  it("retries after failures and timeouts", () => {
    const { s, sent, advance } = setup(4);
    s.update([addr(1)], () => false);
    expect(sent.map((m) => m.tx)).toEqual([1]);
    expect(s.fail(1)).toEqual(addr(1));
    s.update([addr(1)], () => false);
    expect(sent.length).toBe(1); // no retry yet
    advance(20000);
    s.update([addr(1)], () => false);
    expect(sent.at(-1)).toMatchObject({ kind: "tile", id: 2, tx: 1 });
    advance(2000); // past the 1000 ms request timeout: asked again
    s.update([addr(1)], () => false);
    expect(sent.at(-1)).toMatchObject({ kind: "tile", id: 3, tx: 1 });
    expect(s.stats.timedOut).toBe(1);
  });
});

describe("cache", () => {
  const tile = (tx: number, level = 0): Tile => ({ ...addr(tx, 0, level), width: 16, height: 16, values: new Float32Array(256) });
  it("evicts least recently used tiles but never protected ones", () => {
    const evicted: number[] = [];
    const c = new TileCache(3 * 1024, (t) => t.level === 2, (t) => evicted.push(t.tx));
    c.put(tile(9, 2));
    c.put(tile(0));
    c.put(tile(1));
    c.get(addr(0));
    c.put(tile(2));
    expect(evicted).toEqual([1]);
    expect(c.has(addr(9, 0, 2))).toBe(true);
    expect([...c.at("k", "data", 0)].map((t) => t.tx).sort()).toEqual([0, 2]);
  });
});
