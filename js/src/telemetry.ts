// Counters and timings for the browser tests and benchmarks, written as data-* attributes of a
// view's root element (tests/browser/widget_page.py `state`, benchmarks/widget.py). Off by
// default: a view writes nothing per frame, per tile or per mouse move unless the page sets
// `globalThis.snapscopeTelemetry = true` before the view renders (the tests' and benchmarks'
// Playwright init script `TELEMETRY` in tests/browser/servers.py does).

/** Field values; null removes the attribute. */
export type Fields = Record<string, string | number | null>;

/** True when the page asked for telemetry (read once per view, when it is built). */
export function telemetryEnabled(): boolean {
  return (globalThis as { snapscopeTelemetry?: unknown }).snapscopeTelemetry === true;
}

/** Epoch time in milliseconds (comparable across pages and with Python's clock). */
function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export class Telemetry {
  private starts = new Map<string, number>();

  constructor(private el: HTMLElement, readonly enabled: boolean = telemetryEnabled()) {}

  /** Write the fields that `fields` returns; it is not called when telemetry is off. */
  write(fields: () => Fields): void {
    if (!this.enabled) return;
    const ds = this.el.dataset;
    for (const [name, value] of Object.entries(fields())) {
      if (value === null) delete ds[name];
      else ds[name] = String(value);
    }
  }

  /** Add one to the counter `name`. */
  count(name: string): void {
    if (this.enabled) this.el.dataset[name] = String(Number(this.el.dataset[name] ?? 0) + 1);
  }

  /** Write the epoch time (ms) under `name`; with `once`, only the first time. */
  stamp(name: string, once = false): void {
    if (this.enabled && !(once && this.el.dataset[name])) this.el.dataset[name] = String(epochMs());
  }

  /** Start the clock `name` (a later `lap` of it writes the milliseconds since). */
  start(name: string): void {
    if (this.enabled) this.starts.set(name, performance.now());
  }

  /** Write the milliseconds since `start(name)` under `field` and stop that clock; false when
   * it was not running. */
  lap(name: string, field: string): boolean {
    const t0 = this.starts.get(name);
    if (t0 === undefined) return false;
    this.starts.delete(name);
    this.el.dataset[field] = (performance.now() - t0).toFixed(1);
    return true;
  }
}
