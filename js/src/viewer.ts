// One rendered view of an ImageWidget: keeps the view state, draws cached tiles (coarse levels
// first, so a blurry picture shows while finer tiles load), asks the scheduler for missing tiles
// and mirrors pans/zooms into the `_view` trait.
import type { ImageTrait, Model, ViewTrait } from "./model";
import { MSG_CLICK, MSG_ERROR, MSG_TILE, PLANE_DATA, PLANE_MASK, type Plane, type TileAddress, type TileReplyMsg } from "./protocol";
import { lutFromTrait, themeRgba } from "./render/colormaps";
import { CanvasRenderer } from "./render/canvas";
import { GlRenderer } from "./render/gl";
import type { DisplayState, Renderer, Rgba } from "./render/types";
import { TileCache } from "./tiles/cache";
import { decodeTile, type TileHeader } from "./tiles/decode";
import { Scheduler } from "./tiles/scheduler";
import { drawCompass } from "./overlays/compass";
import { drawCrosshair, readout, valueAt } from "./overlays/cursor";
import { drawMarkers, markersFromTrait, type Markers } from "./overlays/markers";
import { attachInput } from "./interaction";
import { PaneLink } from "./link/paneLink";
import { DisplayPanel } from "./ui/displayPanel";
import { buildDom, type Dom } from "./ui/dom";
import * as V from "./view";
import { WcsGrid } from "./wcs";

const MASK_COLOR: Rgba = [255, 40, 40, 140];

export class Viewer {
  readonly dom: Dom;
  private panel: DisplayPanel;
  private link: PaneLink;
  /** Image pixel under the cursor of this or a linked view (null: none). */
  private cross: [number, number] | null = null;
  private renderer: Renderer;
  private cache: TileCache;
  private sched: Scheduler;
  private view: V.ViewState | null = null;
  private viewKey = "";
  private size: V.Size = { width: 1, height: 1, dpr: 1 };
  private grids = new Map<string, WcsGrid | null>();
  private displays = new Map<string, DisplayState>();
  private markers: Markers[] = [];
  private cursor: [number, number] | null = null;
  private frame = 0;
  private pushTimer = 0;
  private tick = 0;
  private version = 0;
  private background: Rgba = [204, 204, 204, 255];
  private foreground = "#222";
  private pushed: ViewTrait | null = null;
  private displayAt = 0;
  private listeners: [string, (...args: any[]) => void][] = [];

  constructor(private model: Model, el: HTMLElement, private signal: AbortSignal) {
    this.dom = buildDom(el, model.get("height"));
    this.renderer = this.makeRenderer(model.get("renderer"));
    this.cache = new TileCache(
      192 * 2 ** 20,
      (t) => t.level === (model.get("_images")[t.key]?.levels.length ?? 0) - 1,
      (t) => this.renderer.release(t),
    );
    this.sched = new Scheduler((msg) => model.send(msg));
    this.panel = new DisplayPanel(model, this.dom, () => this.image(), signal, (e) => this.link.edited(e));
    this.link = new PaneLink(model, {
      grid: () => { const img = this.image(); return img ? this.grid(img) : null; },
      view: () => this.view,
      follow: (v) => this.follow(v),
      crosshair: (p) => { this.cross = p; this.updateReadout(); this.request(); },
      applyEdit: (e) => this.panel.apply(e),
    }, signal);
    this.on("change:_link", () => this.link.rejoin());
    this.dom.root.dataset.renderer = this.renderer.kind;
    this.on("change:_images change:_displayed change:_view", () => this.sync());
    this.on("change:_displays", () => this.syncDisplays());
    this.on("change:_colormaps", () => this.panel.sync());
    this.on("change:_catalogs", () => this.syncCatalogs());
    this.on("change:_overview", () => this.takeOverview());
    this.on("change:show_mask", () => this.request());
    this.on("change:_last_error", () => (this.dom.error.textContent = model.get("_last_error")));
    this.on("change:height", () => (this.dom.stage.style.height = model.get("height")));
    this.on("msg:custom", (msg: any, buffers: DataView[]) => this.onMessage(msg, buffers));
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
    this.refreshTheme();
    this.syncCatalogs();
    this.syncDisplays();
    this.sync();
    this.takeOverview();
    this.dom.root.dataset.readyAt = String(performance.timeOrigin + performance.now());
  }

  private on(events: string, fn: (...args: any[]) => void): void {
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

  private image(): ImageTrait | undefined {
    return this.model.get("_images")[this.model.get("_displayed")];
  }

  private overview(img: ImageTrait, plane: Plane): TileAddress {
    return { key: img.key, plane, level: img.levels.length - 1, tx: 0, ty: 0 };
  }

  private grid(img: ImageTrait): WcsGrid | null {
    if (!this.grids.has(img.key)) this.grids.set(img.key, img.wcs ? WcsGrid.fromTrait(img.wcs) : null);
    return this.grids.get(img.key) ?? null;
  }

  private measure(): boolean {
    const s = { width: this.dom.stage.clientWidth || 1, height: this.dom.stage.clientHeight || 1, dpr: window.devicePixelRatio || 1 };
    const changed = s.width !== this.size.width || s.height !== this.size.height || s.dpr !== this.size.dpr;
    if (changed) {
      // Keep the field of view (AIDA's fov: pixels along the shorter side) across resizes;
      // the first real layout also resolves the theme colours.
      if (this.view) this.view = { ...this.view, zoom: (this.view.zoom * Math.min(s.width, s.height)) / Math.min(this.size.width, this.size.height) };
      this.refreshTheme();
      this.size = s;
      const w = Math.round(s.width * s.dpr), h = Math.round(s.height * s.dpr);
      this.renderer.resize(w, h);
      this.dom.overlay.width = w;
      this.dom.overlay.height = h;
      this.model.set("_viewer_size", [s.width, s.height]);
      this.model.save_changes();
    }
    return changed;
  }

  private refreshTheme(): void {
    this.background = themeRgba(this.dom.root, "--jp-layout-color3", "#cccccc");
    this.foreground = `rgb(${themeRgba(this.dom.root, "--jp-ui-font-color1", "#222222").slice(0, 3).join(",")})`;
    for (const d of this.displays.values()) d.nan = this.background;
  }

  /** Read the cuts, stretch and colormap of every image. */
  private syncDisplays(): void {
    this.displayAt = performance.now();
    this.displays.clear();
    for (const [key, d] of Object.entries(this.model.get("_displays"))) {
      const dv = d.stretch.lut;
      const lut = dv ? new Float32Array(dv.buffer.slice(dv.byteOffset, dv.byteOffset + dv.byteLength)) : null;
      this.displays.set(key, {
        vmin: d.vmin, vmax: d.vmax, lut: lutFromTrait(d.cmap_lut), nan: this.background,
        stretch: { name: d.stretch.name, params: d.stretch.params, lut }, version: ++this.version,
      });
    }
    this.panel.sync();
    this.request();
  }

  /** Read the traits: displayed image and its view. */
  private sync(): void {
    const images = this.model.get("_images");
    for (const key of [...this.grids.keys()]) if (!images[key]) this.grids.delete(key);
    const img = this.image();
    const v = this.model.get("_view");
    const echo = v && this.pushed && v.key === this.pushed.key && v.x === this.pushed.x && v.y === this.pushed.y && v.fov === this.pushed.fov;
    if (img && v && v.key === img.key && !echo) {
      const zoom = V.fovToZoom(v.fov, this.size);
      const cur = this.view;
      if (!cur || this.viewKey !== img.key || Math.abs(cur.cx - v.x) > 1e-6 || Math.abs(cur.cy - v.y) > 1e-6 || Math.abs(cur.zoom / zoom - 1) > 1e-6) {
        this.view = this.link.orient({ cx: v.x, cy: v.y, zoom });
      }
      this.viewKey = img.key;
    } else if (img && this.viewKey !== img.key) {
      this.view = this.link.orient(this.alignedView(img));
      this.viewKey = img.key;
      this.pushView();
    }
    this.dom.label.textContent = img ? img.label : "no image";
    this.panel.sync();
    this.request();
  }

  /** The view for a newly displayed image: same sky centre and scale as before when possible. */
  private alignedView(img: ImageTrait): V.ViewState {
    const old = this.model.get("_images")[this.viewKey];
    const g0 = old && this.grid(old);
    const g1 = this.grid(img);
    if (this.view && g0 && g1) {
      const [ra, dec] = g0.pixelToSky(this.view.cx, this.view.cy);
      const [x, y] = g1.skyToPixel(ra, dec, [(img.width - 1) / 2, (img.height - 1) / 2]);
      const ratio = g1.localFrame(x, y).scale / g0.localFrame(this.view.cx, this.view.cy).scale;
      return { cx: x, cy: y, zoom: this.view.zoom * ratio };
    }
    if (this.view && old && old.width === img.width && old.height === img.height) return { ...this.view };
    return V.fitView(img, this.size);
  }

  private syncCatalogs(): void {
    this.markers = (this.model.get("_catalogs") ?? []).map(markersFromTrait);
    this.request();
  }

  private pushView(): void {
    if (this.pushTimer) return;
    this.pushTimer = window.setTimeout(() => {
      this.pushTimer = 0;
      const img = this.image();
      if (!img || !this.view || this.signal.aborted) return;
      // Remember what we sent: its echo from the kernel must not pull the view back.
      this.pushed = { key: img.key, x: this.view.cx, y: this.view.cy, fov: V.zoomToFov(this.view.zoom, this.size) };
      this.model.set("_view", this.pushed);
      this.model.save_changes();
    }, 120);
  }

  private pan(dx: number, dy: number): void {
    if (!this.view) return;
    this.view = V.panBy(this.view, this.size, dx, dy);
    this.changed();
  }

  private zoom(factor: number, sx = this.size.width / 2, sy = this.size.height / 2): void {
    if (!this.view) return;
    this.view = V.zoomAbout(this.view, this.size, factor, sx, sy);
    this.changed();
  }

  /** Show a linked view's view (no message back to the group). */
  private follow(v: V.ViewState): void {
    this.view = v;
    this.pushView();
    this.updateReadout();
    this.request();
  }

  private hover(p: [number, number] | null): void {
    this.cursor = p;
    const pixel = p && this.view ? V.screenToImage(this.view, this.size, ...p) : null;
    if (this.link.hover(pixel)) {
      this.cross = pixel;
      this.request();
    }
    this.updateReadout();
  }

  /** The user panned or zoomed. */
  private changed(): void {
    this.link.moved();
    this.pushView();
    this.updateReadout();
    this.request();
  }

  private action(name: string): void {
    const img = this.image();
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
      this.view = this.link.orient(V.fitView(img, this.size));
      this.changed();
    } else if (img && this.view && name === "one") {
      this.view = { ...this.view, zoom: 1 / this.size.dpr };
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
    const img = this.image();
    if (!img || !this.view) return;
    const [x, y] = V.screenToImage(this.view, this.size, sx, sy);
    this.model.send({ kind: MSG_CLICK, key: img.key, x, y });
  }

  private updateReadout(): void {
    const img = this.image();
    const at = this.cursor && this.view ? V.screenToImage(this.view, this.size, ...this.cursor) : this.cross;
    if (!img || !at) {
      this.dom.status.textContent = "";
      return;
    }
    const [x, y] = at;
    const grid = this.grid(img);
    this.dom.status.textContent = readout(img, x, y, valueAt(this.cache, img, x, y), grid);
    this.dom.root.dataset.cursor = `${x},${y}`;
    if (grid) this.dom.root.dataset.cursorSky = grid.pixelToSky(x, y).join(",");
  }

  /** Cache the overview tile that came with the state (no request needed). */
  private takeOverview(): void {
    const o = this.model.get("_overview");
    if (o && !this.cache.has(o)) this.store(o, o.buffer);
  }

  /** Decode a tile and cache it, if its image is still loaded. */
  private store(msg: TileReplyMsg, buffer: DataView): void {
    const addr: TileAddress = { key: msg.key, plane: msg.plane, level: msg.level, tx: msg.tx, ty: msg.ty };
    const values = decodeTile(msg as TileHeader, buffer);
    this.sched.resolve(addr);
    if (this.signal.aborted || !this.model.get("_images")[addr.key]) return;
    this.cache.put({ ...addr, width: msg.shape[1], height: msg.shape[0], values });
    this.dom.root.dataset.received = String(Number(this.dom.root.dataset.received ?? 0) + 1);
    this.updateReadout();
    this.request();
  }

  private onMessage(msg: any, buffers: DataView[]): void {
    if (msg?.kind === MSG_ERROR) {
      if (msg.id != null) this.sched.fail(msg.id);
      this.dom.error.textContent = String(msg.error).trim().split("\n").pop() ?? "";
      this.request();
    } else if (msg?.kind === MSG_TILE && buffers?.length === 1) {
      this.store(msg as TileReplyMsg, buffers[0]);
    } else {
      throw new Error(`snapscope: unknown message ${JSON.stringify(msg?.kind)} with ${buffers?.length ?? 0} buffers`);
    }
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
    const t0 = performance.now();
    this.measure();
    const { width, height, dpr } = this.size;
    this.renderer.clear(this.background);
    const octx = this.dom.overlay.getContext("2d") as CanvasRenderingContext2D;
    octx.setTransform(1, 0, 0, 1, 0, 0);
    octx.clearRect(0, 0, this.dom.overlay.width, this.dom.overlay.height);
    const img = this.image();
    const display = img && this.displays.get(img.key);
    if (!img || !this.view || !display) {
      this.panel.frame(display);
      return;
    }
    const view = this.view;
    // Tiles are placed in the unturned view; the renderer turns them about the canvas centre.
    const flat = { ...view, rot: 0 };
    const [vx0, vy0, vx1, vy1] = V.visibleBounds(view, this.size);
    this.renderer.rotate(view.rot ?? 0);
    const target = V.levelFor(img, view, this.size);
    const planes: Plane[] = [PLANE_DATA];
    if (this.model.get("show_mask") && img.has_mask) planes.push(PLANE_MASK);
    let drawn = 0;
    const wanted: TileAddress[] = [];
    for (const plane of planes) {
      wanted.push(this.overview(img, plane));
      const visible = V.visibleTiles(img, view, this.size, target).map(([tx, ty]) => ({ key: img.key, plane, level: target, tx, ty }));
      // Coarser levels fill the gaps while finer tiles load; once the view is complete they
      // would only be overdrawn (costly with software WebGL), so they are skipped.
      const complete = visible.every((a) => this.cache.has(a));
      for (let level = complete ? target : img.levels.length - 1; level >= target; level--) {
        for (const t of this.cache.at(img.key, plane, level)) {
          const [x0, y0, x1, y1] = V.tileBounds(img, level, t.tx, t.ty);
          if (x1 < vx0 || x0 > vx1 || y1 < vy0 || y0 > vy1) continue;
          const [l, b] = V.imageToScreen(flat, this.size, x0, y0);
          const [r, tp] = V.imageToScreen(flat, this.size, x1, y1);
          const rect: [number, number, number, number] = [l * dpr, tp * dpr, r * dpr, b * dpr];
          if (plane === PLANE_DATA) this.renderer.drawTile(t, rect, display);
          else this.renderer.drawMask(t, rect, MASK_COLOR);
          drawn++;
        }
      }
      wanted.push(...visible);
    }
    this.sched.update(wanted, (a) => this.cache.has(a));
    const missing = wanted.filter((a) => !this.cache.has(a)).length;
    // Requests may time out with no message to wake us: look again soon.
    if (this.sched.busy && !this.tick) this.tick = window.setTimeout(() => { this.tick = 0; this.request(); }, 500);
    octx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawMarkers(octx, this.markers, view, this.size);
    const grid = this.grid(img);
    if (grid) drawCompass(octx, grid, view.cx, view.cy, view.zoom, width, height, this.foreground, view.rot);
    const ds = this.dom.root.dataset;
    if (this.cross) {
      drawCrosshair(octx, ...V.imageToScreen(view, this.size, ...this.cross), width, height);
      ds.crosshair = this.cross.join(",");
    } else delete ds.crosshair;
    if (grid) ds.sky = grid.pixelToSky(view.cx, view.cy).join(",");
    ds.frames = String(Number(ds.frames ?? 0) + 1);
    if (drawn && !ds.firstPicture) ds.firstPicture = String(performance.timeOrigin + performance.now());
    ds.drawn = String(drawn);
    ds.level = String(target);
    ds.requested = String(this.sched.stats.requested);
    ds.cancelled = String(this.sched.stats.cancelled);
    ds.missing = String(missing);
    ds.pending = String(this.sched.inflight);
    ds.view = JSON.stringify({ key: img.key, cx: view.cx, cy: view.cy, zoom: view.zoom, rot: view.rot ?? 0 });
    ds.drawMs = (performance.now() - t0).toFixed(1);
    if (this.displayAt) {
      // Time from new cuts/stretch/colormap arriving to the repainted frame (no pixels fetched).
      ds.displayToFrameMs = (performance.now() - this.displayAt).toFixed(1);
      this.displayAt = 0;
    }
    this.panel.frame(display);
  }

  private destroy(ro: ResizeObserver): void {
    ro.disconnect();
    for (const [ev, fn] of this.listeners) this.model.off(ev as any, fn);
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.pushTimer) clearTimeout(this.pushTimer);
    if (this.tick) clearTimeout(this.tick);
    this.sched.reset();
    this.cache.clear();
    this.renderer.destroy();
    this.dom.root.remove();
  }
}


