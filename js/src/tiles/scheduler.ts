// Which tiles to ask the kernel for, and when. `update(wanted)` takes the tiles the current view
// needs, in priority order (overview first, then nearest to the centre): it cancels in-flight
// requests that are no longer wanted, forgets requests that timed out, and sends new requests
// until `maxInflight` are outstanding.
import { MSG_CANCEL, MSG_TILE, tileId, type TileAddress, type TileRequestMsg } from "../protocol";

interface Pending {
  id: number;
  addr: TileAddress;
  deadline: number;
}

export type Send = (msg: TileRequestMsg | { kind: typeof MSG_CANCEL; ids: number[] }) => void;

export class Scheduler {
  private nextId = 1;
  private pending = new Map<string, Pending>();
  private failed = new Map<string, number>();
  /** Counters for tests and the benchmark. */
  stats = { requested: 0, cancelled: 0, timedOut: 0 };

  constructor(
    private send: Send,
    private maxInflight = 6,
    private timeoutMs = 30000,
    private now: () => number = () => performance.now(),
  ) {}

  get inflight(): number {
    return this.pending.size;
  }

  /** True while requests are outstanding (the caller should update again). */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  update(wanted: TileAddress[], isCached: (a: TileAddress) => boolean): void {
    const t = this.now();
    const want = new Set(wanted.map(tileId));
    const cancel: number[] = [];
    for (const [id, p] of this.pending) {
      if (p.deadline < t) {
        this.pending.delete(id);
        this.stats.timedOut++;
      } else if (!want.has(id)) {
        this.pending.delete(id);
        cancel.push(p.id);
      }
    }
    for (const [id, until] of this.failed) if (until < t) this.failed.delete(id);
    if (cancel.length) {
      this.stats.cancelled += cancel.length;
      this.send({ kind: MSG_CANCEL, ids: cancel });
    }
    for (const a of wanted) {
      if (this.pending.size >= this.maxInflight) break;
      const id = tileId(a);
      if (this.pending.has(id) || this.failed.has(id) || isCached(a)) continue;
      const rid = this.nextId++;
      this.pending.set(id, { id: rid, addr: a, deadline: t + this.timeoutMs });
      this.stats.requested++;
      this.send({ kind: MSG_TILE, id: rid, key: a.key, plane: a.plane, level: a.level, tx: a.tx, ty: a.ty });
    }
  }

  /** A tile arrived; stop waiting for it. */
  resolve(a: TileAddress): void {
    this.pending.delete(tileId(a));
  }

  /** A request failed: do not ask for that tile again for `retryMs`. Returns its address. */
  fail(requestId: number, retryMs = 10000): TileAddress | undefined {
    for (const [id, p] of this.pending) {
      if (p.id === requestId) {
        this.pending.delete(id);
        this.failed.set(id, this.now() + retryMs);
        return p.addr;
      }
    }
    return undefined;
  }

  /** Forget everything (e.g. the view is being destroyed). */
  reset(): void {
    this.pending.clear();
    this.failed.clear();
  }
}
