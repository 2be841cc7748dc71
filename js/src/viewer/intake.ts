// Tiles from the kernel into the view's cache: the `_overview` trait (the overview tile that
// came with the state, so a new view paints with no request) and the replies to its requests,
// custom messages with one handler per kind (messages.ts): `tile` (a JSON header and exactly
// one binary buffer) and `error`. Any other kind is an error the user sees, as in Python.
import { listen } from "../messages";
import type { Model } from "../model";
import { MSG_ERROR, MSG_TILE, type ErrorReplyMsg, type TileAddress, type TileReplyMsg } from "../protocol";
import type { Telemetry } from "../telemetry";
import type { TileCache } from "../tiles/cache";
import { decodeTile, type TileHeader } from "../tiles/decode";
import type { Scheduler } from "../tiles/scheduler";

/** What the intake tells its view. */
export interface IntakeEvents {
  /** A tile was cached (repaint). */
  stored(): void;
  /** Show this error to the user (a failed request, a message that cannot be read). */
  error(text: string): void;
}

export class TileIntake {
  constructor(
    private model: Model, private cache: TileCache, private sched: Scheduler,
    private events: IntakeEvents, private telemetry: Telemetry, private signal: AbortSignal,
  ) {
    listen(model, {
      [MSG_TILE]: (msg: TileReplyMsg, buffers) => this.tile(msg, buffers),
      [MSG_ERROR]: (msg: ErrorReplyMsg) => this.failed(msg),
    }, (err) => events.error(err.message), signal);
  }

  /** Cache the overview tile of the `_overview` trait, unless it is cached already. */
  takeOverview(): void {
    const o = this.model.get("_overview");
    if (o && !this.cache.has(o)) this.store(o, o.buffer);
  }

  private tile(msg: TileReplyMsg, buffers: DataView[]): void {
    if (buffers.length !== 1) throw new Error(`snapscope: a tile reply needs one buffer, got ${buffers.length}`);
    this.store(msg, buffers[0]);
  }

  private failed(msg: ErrorReplyMsg): void {
    if (msg.id != null) this.sched.fail(msg.id);
    this.events.error(String(msg.error).trim().split("\n").pop() ?? "");
  }

  /** Decode a tile and cache it, if its image is still loaded. */
  private store(msg: TileReplyMsg, buffer: DataView): void {
    const addr: TileAddress = { key: msg.key, plane: msg.plane, level: msg.level, tx: msg.tx, ty: msg.ty };
    const values = decodeTile(msg as TileHeader, buffer);
    this.sched.resolve(addr);
    if (this.signal.aborted || !this.model.get("_images")[addr.key]) return;
    this.cache.put({ ...addr, width: msg.shape[1], height: msg.shape[0], values });
    this.telemetry.count("received");
    this.events.stored();
  }
}
