// Message kinds of the tile protocol. Twin of src/snapscope/widgets/_protocol.py (same names,
// same values); tests/unit/test_widget_protocol.py compares the two files. The reply's fields are
// the record TileReply of src/snapscope/widgets/_state.py (tests/unit/test_widget_state.py).
import type { TileHeader } from "./tiles/decode";

export const PROTOCOL_VERSION = 2;
export const MSG_TILE = "tile";
export const MSG_CANCEL = "cancel";
export const MSG_CLICK = "click";
export const MSG_ERROR = "error";
export const PLANE_DATA = "data";
export const PLANE_MASK = "mask";

export type Plane = typeof PLANE_DATA | typeof PLANE_MASK;

/** Where a tile sits: image key, plane, pyramid level (0 = full resolution), column, row. */
export interface TileAddress {
  key: string;
  plane: Plane;
  level: number;
  tx: number;
  ty: number;
}

export interface TileRequestMsg extends TileAddress {
  kind: typeof MSG_TILE;
  id: number;
}

/** Reply header: the address, the request id (null for the `_overview` trait) and the encoding header. */
export interface TileReplyMsg extends TileAddress, TileHeader {
  kind: typeof MSG_TILE;
  id: number | null;
  /** A sampled stand-in for a big image's overview, replaced by the exact tile. */
  preview?: boolean;
}

export interface ErrorReplyMsg {
  kind: typeof MSG_ERROR;
  id: number | null;
  error: string;
}

export function tileId(a: TileAddress): string {
  return `${a.key}/${a.plane}/${a.level}/${a.tx}/${a.ty}`;
}
