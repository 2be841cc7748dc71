// One rendered view of an ImageWidget, wiring its parts: the state it keeps of the model
// (state.ts), the tiles it receives (intake.ts), the frames it draws (frame.ts), its link group
// (link/paneLink.ts), display control (ui/displayPanel.ts), the user's input (interaction.ts)
// and the counters for tests and benchmarks (telemetry.ts, off unless the page asks).
import type { Model } from "../model";
import { MSG_CLICK } from "../protocol";
import { readout, valueAt } from "../overlays/cursor";
import { attachInput } from "../interaction";
import { PaneLink } from "../link/paneLink";
import { CanvasRenderer } from "../render/canvas";
import { GlRenderer } from "../render/gl";
import type { Renderer } from "../render/types";
import { Telemetry } from "../telemetry";
import { TileCache } from "../tiles/cache";
import { Scheduler } from "../tiles/scheduler";
import { DisplayPanel } from "../ui/displayPanel";
import { buildDom, type Dom } from "../ui/dom";
import * as V from "../view";
import { drawFrame, frameFields } from "./frame";
import { TileIntake } from "./intake";
import { ViewerState } from "./state";

/** Bytes of decoded tiles a view keeps (overview tiles are never evicted). */
const CACHE_BYTES = 192 * 2 ** 20;
/** A view with requests outstanding looks again this often (a request may time out silently). */
const RECHECK_MS = 500;

export class Viewer {
  readonly dom: Dom;
  private state: ViewerState;
  private telemetry: Telemetry;
  private panel: DisplayPanel;
  private link: PaneLink;
  private renderer: Renderer;
  private cache: TileCache;
  private sched: Scheduler;
  private intake: TileIntake;
  private frame = 0;
  private recheck = 0;
  private listeners: [string, () => void][] = [];

  constructor(private model: Model, el: HTMLElement, private signal: AbortSignal) {
    this.dom = buildDom(el, model.get("height"));
    this.telemetry = new Telemetry(this.dom.root);
    this.state = new ViewerState(model, signal);
    this.renderer = this.makeRenderer(model.get("renderer"));
    this.cache = new TileCache(
      CACHE_BYTES,
      (t) => t.level === (model.get("_images")[t.key]?.levels.length ?? 0) - 1,
      (t) => this.renderer.release(t),
    );
    this.sched = new Scheduler((msg) => model.send(msg));
    this.intake = new TileIntake(model, this.cache, this.sched, {
      stored: () => { this.updateReadout(); this.request(); },
      error: (text) => { this.dom.error.textContent = text; this.request(); },
    }, this.telemetry, signal);
    this.panel = new DisplayPanel(model, this.dom, () => this.state.image(), this.telemetry, signal, (e) => this.link.edited(e));
    this.link = new PaneLink(model, {
      grid: () => { const img = this.state.image(); return img ? this.state.grid(img) : null; },
      view: () => this.state.view,
      follow: (v) => this.follow(v),
      crosshair: (p) => { this.state.cross = p; this.updateReadout(); this.request(); },
      applyEdit: (e) => this.panel.apply(e),
    }, signal);
    this.dom.root.dataset.renderer = this.renderer.kind;
    this.on("change:_link", () => this.link.rejoin());
    this.on("change:_images change:_displayed change:_view", () => this.sync());
    this.on("change:_displays", () => this.syncDisplays());
    this.on("change:_colormaps", () => this.panel.sync());
    this.on("change:_catalogs", () => { this.state.readCatalogs(); this.request(); });
    this.on("change:_overview", () => this.intake.takeOverview());
    this.on("change:show_mask", () => this.request());
    this.on("change:_last_error", () => (this.dom.error.textContent = model.get("_last_error")));
    this.on("change:height", () => (this.dom.stage.style.height = model.get("height")));
    attachInput(this.dom, {
      pan: (dx, dy) => this.pan(dx, dy),
      zoom: (f, sx, sy) => this.zoom(f, sx, sy),
      hover: (p) => this.hover(p),
      click: (sx, sy) => this.click(sx, sy),
      action: (name) => this.action(name),
    }, signal);
    const ro = new ResizeObserver(() => this.request());
    ro.observe(this.dom.stage);
    signal.addEventListener("abort", () => this.destroy(ro), { once: true });
    this.measure();
    this.state.readTheme(this.dom.root);
    this.state.readCatalogs();
    this.syncDisplays();
    this.sync();
    this.intake.takeOverview();
    this.telemetry.stamp("readyAt");
  }

  /** Listen to model events until the view ends (destroy removes them). */
  private on(events: string, fn: () => void): void {
    for (const ev of events.split(" ")) {
      this.model.on(ev, fn);
      this.listeners.push([ev, fn]);
    }
  }

  private makeRenderer(choice: string): Renderer {
    const gl = choice === "canvas" ? null : GlRenderer.create(this.dom.image);
    if (gl) return gl;
    // A canvas that handed out a webgl2 context cannot give a 2d one: use a fresh canvas.
    const fresh = document.createElement("canvas");
    fresh.className = this.dom.image.className;
    this.dom.image.replaceWith(fresh);
    this.dom.image = fresh;
    return new CanvasRenderer(fresh);
  }

  /** Follow the stage's size (CSS pixels and device pixel ratio). */
  private measure(): void {
    const s = { width: this.dom.stage.clientWidth || 1, height: this.dom.stage.clientHeight || 1, dpr: window.devicePixelRatio || 1 };
    if (!this.state.resize(s)) return;
    // The first real layout also resolves the theme colours.
    this.state.readTheme(this.dom.root);
    const w = Math.round(s.width * s.dpr), h = Math.round(s.height * s.dpr);
    this.renderer.resize(w, h);
    this.dom.overlay.width = w;
    this.dom.overlay.height = h;
    this.model.set("_viewer_size", [s.width, s.height]);
    this.model.save_changes();
  }

  private syncDisplays(): void {
    this.telemetry.start("display");
    this.state.readDisplays();
    this.panel.sync();
    this.request();
  }

  /** The displayed image or its view changed. */
  private sync(): void {
    this.state.readView((v) => this.link.orient(v));
    const img = this.state.image();
    this.dom.label.textContent = img ? img.label : "no image";
    this.panel.sync();
    this.request();
  }

  private pan(dx: number, dy: number): void {
    if (!this.state.view) return;
    this.state.view = V.panBy(this.state.view, this.state.size, dx, dy);
    this.changed();
  }

  private zoom(factor: number, sx = this.state.size.width / 2, sy = this.state.size.height / 2): void {
    if (!this.state.view) return;
    this.state.view = V.zoomAbout(this.state.view, this.state.size, factor, sx, sy);
    this.changed();
  }

  /** Show a linked view's view (no message back to the group). */
  private follow(v: V.ViewState): void {
    this.state.view = v;
    this.state.pushView();
    this.updateReadout();
    this.request();
  }

  private hover(p: [number, number] | null): void {
    this.state.cursor = p;
    const { view, size } = this.state;
    const pixel = p && view ? V.screenToImage(view, size, ...p) : null;
    if (this.link.hover(pixel)) {
      this.state.cross = pixel;
      this.request();
    }
    this.updateReadout();
  }

  /** The user panned or zoomed. */
  private changed(): void {
    this.link.moved();
    this.state.pushView();
    this.updateReadout();
    this.request();
  }

  private action(name: string): void {
    const img = this.state.image();
    if (name === "zoomIn") this.zoom(2);
    else if (name === "zoomOut") this.zoom(0.5);
    else if (name === "mask") {
      this.model.set("show_mask", !this.model.get("show_mask"));
      this.model.save_changes();
    } else if (name === "blink") {
      if (!this.link.blink()) this.blink();
    }
    else if (name === "display") this.panel.toggle();
    else if (img && name === "fit") {
      this.state.view = this.link.orient(V.fitView(img, this.state.size));
      this.changed();
    } else if (img && this.state.view && name === "one") {
      this.state.view = { ...this.state.view, zoom: 1 / this.state.size.dpr };
      this.changed();
    }
  }

  private blink(): void {
    const keys = Object.keys(this.model.get("_images"));
    if (keys.length < 2) return;
    const next = keys[(keys.indexOf(this.model.get("_displayed")) + 1) % keys.length];
    this.model.set("_displayed", next);
    this.model.save_changes();
    this.sync();
  }

  private click(sx: number, sy: number): void {
    const img = this.state.image();
    if (!img || !this.state.view) return;
    const [x, y] = V.screenToImage(this.state.view, this.state.size, sx, sy);
    this.model.send({ kind: MSG_CLICK, key: img.key, x, y });
  }

  private updateReadout(): void {
    const img = this.state.image();
    const at = this.state.pointer();
    if (!img || !at) {
      this.dom.status.textContent = "";
      return;
    }
    const grid = this.state.grid(img);
    this.dom.status.textContent = readout(img, at[0], at[1], valueAt(this.cache, img, ...at), grid);
    this.telemetry.write(() => ({ cursor: at.join(","), cursorSky: grid ? grid.pixelToSky(...at).join(",") : null }));
  }

  /** Ask for a repaint on the next animation frame. */
  request(): void {
    if (this.frame || this.signal.aborted) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    this.measure();
    const f = drawFrame({ renderer: this.renderer, overlay: this.dom.overlay }, this.state, this.cache, this.model.get("show_mask"));
    if (f) {
      this.sched.update(f.wanted, (a) => this.cache.has(a));
      // Requests may time out with no message to wake us: look again soon.
      if (this.sched.busy && !this.recheck) this.recheck = window.setTimeout(() => { this.recheck = 0; this.request(); }, RECHECK_MS);
      const tel = this.telemetry;
      tel.count("frames");
      if (f.drawn) tel.stamp("firstPicture", true);
      tel.write(() => ({
        ...frameFields(f, this.state, this.cache),
        requested: this.sched.stats.requested, cancelled: this.sched.stats.cancelled, pending: this.sched.inflight,
      }));
      // From new cuts/stretch/colormap arriving to the repainted frame (no pixels fetched).
      tel.lap("display", "displayToFrameMs");
    }
    const img = this.state.image();
    this.panel.frame(img && this.state.displays.get(img.key));
  }

  private destroy(ro: ResizeObserver): void {
    ro.disconnect();
    for (const [ev, fn] of this.listeners) this.model.off(ev, fn);
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.recheck) clearTimeout(this.recheck);
    this.sched.reset();
    this.cache.clear();
    this.renderer.destroy();
    this.dom.root.remove();
  }
}
