// LRU cache of decoded tiles, bounded in bytes. Top-level (overview) tiles are never evicted,
// so a coarse picture is always available while finer tiles load. `onEvict` lets the renderer
// free the tile's GPU texture.
import type { TileAddress } from "../protocol";
import { tileId } from "../protocol";

export interface Tile extends TileAddress {
  width: number;
  height: number;
  values: Float32Array;
  /** Renderer-owned resources (a WebGL texture or a 2D canvas). */
  gpu?: unknown;
}

export class TileCache {
  private map = new Map<string, Tile>();
  private bytes = 0;

  constructor(
    private maxBytes = 192 * 2 ** 20,
    private isProtected: (t: Tile) => boolean = () => false,
    private onEvict: (t: Tile) => void = () => {},
  ) {}

  get size(): number {
    return this.map.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  has(a: TileAddress): boolean {
    return this.map.has(tileId(a));
  }

  /** The tile, marked as most recently used; undefined when not cached. */
  get(a: TileAddress): Tile | undefined {
    const id = tileId(a);
    const t = this.map.get(id);
    if (t) {
      this.map.delete(id);
      this.map.set(id, t);
    }
    return t;
  }

  /** Peek without touching the LRU order. */
  peek(a: TileAddress): Tile | undefined {
    return this.map.get(tileId(a));
  }

  put(t: Tile): void {
    const id = tileId(t);
    const old = this.map.get(id);
    if (old) this.remove(id, old);
    this.map.set(id, t);
    this.bytes += t.values.byteLength;
    this.evict();
  }

  private remove(id: string, t: Tile): void {
    this.map.delete(id);
    this.bytes -= t.values.byteLength;
    this.onEvict(t);
  }

  private evict(): void {
    if (this.bytes <= this.maxBytes) return;
    for (const [id, t] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      if (!this.isProtected(t)) this.remove(id, t);
    }
  }

  /** Tiles of one image and plane at one level. */
  *at(key: string, plane: string, level: number): Generator<Tile> {
    for (const t of this.map.values()) if (t.key === key && t.plane === plane && t.level === level) yield t;
  }

  clear(): void {
    for (const [id, t] of [...this.map]) this.remove(id, t);
  }
}
