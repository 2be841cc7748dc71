// Custom messages from the kernel: one handler per message kind. A kind the view has no handler
// for is an error, as an unknown kind from the browser is in Python (`_protocol.ProtocolError`):
// the view shows it to the user and throws it (so it is in the console too), never drops it.
import type { AnyModel } from "@anywidget/types";

export type Handler = (msg: any, buffers: DataView[]) => void;

/** A message whose kind the view does not handle. */
export class UnknownMessageError extends Error {
  constructor(readonly kind: unknown, buffers: number) {
    super(`snapscope: unknown message kind ${JSON.stringify(kind) ?? "undefined"} (with ${buffers} buffers)`);
    this.name = "UnknownMessageError";
  }
}

/** Call the handler of `msg.kind`; throws UnknownMessageError when there is none. */
export function route(handlers: Record<string, Handler>, msg: unknown, buffers: DataView[] = []): void {
  const kind = (msg as { kind?: unknown } | null)?.kind;
  if (typeof kind !== "string" || !Object.prototype.hasOwnProperty.call(handlers, kind)) throw new UnknownMessageError(kind, buffers.length);
  handlers[kind](msg, buffers);
}

/**
 * Route the model's custom messages to `handlers` until `signal` aborts. An error while handling
 * one (an unknown kind, a reply that cannot be read) goes to `report`, then is thrown on.
 */
export function listen(
  model: AnyModel<any>, handlers: Record<string, Handler>, report: (err: Error) => void, signal: AbortSignal,
): void {
  const onMessage = (msg: unknown, buffers: DataView[]) => {
    try {
      route(handlers, msg, buffers);
    } catch (err) {
      report(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  };
  model.on("msg:custom", onMessage);
  signal.addEventListener("abort", () => model.off("msg:custom", onMessage), { once: true });
}
