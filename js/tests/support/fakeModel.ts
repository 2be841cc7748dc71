// An AnyModel in memory for unit tests: traits, change events (fired synchronously by set, as
// Backbone does), custom messages both ways, and a count of saves and listeners.
import type { AnyModel, Render, RenderProps } from "@anywidget/types";

type Callback = (...args: any[]) => void;

export class FakeModel<T extends Record<string, any>> implements AnyModel<T> {
  /** Custom messages the view sent to Python. */
  sent: any[] = [];
  saves = 0;
  widget_manager = { get_model: () => Promise.reject(new Error("no widget manager")) } as AnyModel<T>["widget_manager"];
  private handlers = new Map<string, Set<Callback>>();

  constructor(private traits: T) {}

  get<K extends keyof T>(key: K): T[K] {
    return this.traits[key];
  }

  set<K extends keyof T>(key: K, value: T[K]): void {
    this.traits[key] = value;
    this.emit(`change:${String(key)}`);
  }

  on(event: string, callback: Callback): void {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)?.add(callback);
  }

  off(event?: string | null, callback?: Callback | null): void {
    if (event && callback) this.handlers.get(event)?.delete(callback);
  }

  save_changes(): void {
    this.saves++;
  }

  send(content: any): void {
    this.sent.push(content);
  }

  /** Python changes several traits in one message: all values first, then their events. */
  update(patch: Partial<T>): void {
    Object.assign(this.traits, patch);
    for (const key of Object.keys(patch)) this.emit(`change:${key}`);
  }

  /** A custom message from the kernel. */
  message(msg: unknown, buffers: DataView[] = []): void {
    this.emit("msg:custom", msg, buffers);
  }

  /** Listeners registered (for one event, or all). */
  listeners(event?: string): number {
    if (event) return this.handlers.get(event)?.size ?? 0;
    return [...this.handlers.values()].reduce((n, s) => n + s.size, 0);
  }

  private emit(event: string, ...args: unknown[]): void {
    for (const cb of [...(this.handlers.get(event) ?? [])]) cb(...args);
  }
}

/** Let queued microtasks run (the linked views redraw once per batch, in a microtask). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Render an anywidget view of `traits` into a new element: its model, element, root (the
 * element of class `rootClass`) and render()'s cleanup. */
export function renderView<T extends Record<string, any>>(widget: { render: Render<T> }, traits: T, rootClass: string) {
  const model = new FakeModel(traits);
  const el = document.createElement("div");
  const end = widget.render({ model, el } as unknown as RenderProps<T>) as () => void;
  const root = el.querySelector<HTMLElement>(`.${rootClass}`) as HTMLElement;
  return { model, el, end, root };
}
