// What one view holds of its model, in the forms drawing needs: the displayed image, WCS grids
// (built once per image), display states (cuts, stretch, colormap as the renderers take them),
// catalogue markers, theme colours, the stage size, the cursor, and the view (centre, zoom,
// rotation) with its debounced sync to the `_view` trait. No drawing and no messages here.
import type { ImageTrait, Model, ViewTrait } from "../model";
import { markersFromTrait, type Markers } from "../overlays/markers";
import { lutFromTrait, themeRgba } from "../render/colormaps";
import type { DisplayState, Rgba } from "../render/types";
import * as V from "../view";
import { WcsGrid } from "../wcs";

/** Delay before a view the user made is written to `_view` (one trait update per gesture). */
const PUSH_MS = 120;

export class ViewerState {
  size: V.Size = { width: 1, height: 1, dpr: 1 };
  view: V.ViewState | null = null;
  /** Key of the image `view` belongs to. */
  private viewKey = "";
  displays = new Map<string, DisplayState>();
  markers: Markers[] = [];
  background: Rgba = [204, 204, 204, 255];
  foreground = "#222";
  /** Mouse position over this view (CSS pixels; null: outside). */
  cursor: [number, number] | null = null;
  /** Image pixel under the cursor of a linked view (null: none). */
  cross: [number, number] | null = null;
  private grids = new Map<string, WcsGrid | null>();
  private version = 0;
  /** The last `_view` written: its echo from the kernel must not pull the view back. */
  private pushed: ViewTrait | null = null;
  private pushTimer = 0;

  constructor(private model: Model, private signal: AbortSignal) {
    signal.addEventListener("abort", () => clearTimeout(this.pushTimer), { once: true });
  }

  /** The displayed image (undefined before any load). */
  image(): ImageTrait | undefined {
    return this.model.get("_images")[this.model.get("_displayed")];
  }

  /** WCS grid of `img` (null without a WCS), built on first use. */
  grid(img: ImageTrait): WcsGrid | null {
    if (!this.grids.has(img.key)) this.grids.set(img.key, img.wcs ? WcsGrid.fromTrait(img.wcs) : null);
    return this.grids.get(img.key) ?? null;
  }

  /** The image pixel to read out: under this view's cursor, else a linked view's crosshair. */
  pointer(): [number, number] | null {
    return this.cursor && this.view ? V.screenToImage(this.view, this.size, ...this.cursor) : this.cross;
  }

  /** Read the cuts, stretch and colormap of every image from `_displays`. */
  readDisplays(): void {
    this.displays.clear();
    for (const [key, d] of Object.entries(this.model.get("_displays"))) {
      const dv = d.stretch.lut;
      const lut = dv ? new Float32Array(dv.buffer.slice(dv.byteOffset, dv.byteOffset + dv.byteLength)) : null;
      this.displays.set(key, {
        vmin: d.vmin, vmax: d.vmax, lut: lutFromTrait(d.cmap_lut), nan: this.background,
        stretch: { name: d.stretch.name, params: d.stretch.params, lut }, version: ++this.version,
      });
    }
  }

  /** Read the catalogue markers from `_catalogs`. */
  readCatalogs(): void {
    this.markers = (this.model.get("_catalogs") ?? []).map(markersFromTrait);
  }

  /** Resolve the theme colours (JupyterLab's --jp-* variables) at `root`. */
  readTheme(root: HTMLElement): void {
    this.background = themeRgba(root, "--jp-layout-color3", "#cccccc");
    this.foreground = `rgb(${themeRgba(root, "--jp-ui-font-color1", "#222222").slice(0, 3).join(",")})`;
    for (const d of this.displays.values()) d.nan = this.background;
  }

  /** A new stage size; the field of view (AIDA's fov: pixels along the shorter side) is kept.
   * Returns false when the size did not change. */
  resize(s: V.Size): boolean {
    const old = this.size;
    if (s.width === old.width && s.height === old.height && s.dpr === old.dpr) return false;
    if (this.view) this.view = { ...this.view, zoom: (this.view.zoom * Math.min(s.width, s.height)) / Math.min(old.width, old.height) };
    this.size = s;
    return true;
  }

  /**
   * Read `_images`, `_displayed` and `_view`: a `_view` that is not the echo of our own becomes
   * the view; a newly displayed image without one gets `alignedView` (and it is written back).
   * `orient` turns a view this pane makes itself (see link/paneLink.ts).
   */
  readView(orient: (v: V.ViewState) => V.ViewState): void {
    const images = this.model.get("_images");
    for (const key of [...this.grids.keys()]) if (!images[key]) this.grids.delete(key);
    const img = this.image();
    const v = this.model.get("_view");
    const p = this.pushed;
    const echo = v && p && v.key === p.key && v.x === p.x && v.y === p.y && v.fov === p.fov;
    if (img && v && v.key === img.key && !echo) {
      const zoom = V.fovToZoom(v.fov, this.size);
      const cur = this.view;
      if (!cur || this.viewKey !== img.key || Math.abs(cur.cx - v.x) > 1e-6 || Math.abs(cur.cy - v.y) > 1e-6 || Math.abs(cur.zoom / zoom - 1) > 1e-6) {
        this.view = orient({ cx: v.x, cy: v.y, zoom });
      }
      this.viewKey = img.key;
    } else if (img && this.viewKey !== img.key) {
      this.view = orient(this.alignedView(img));
      this.viewKey = img.key;
      this.pushView();
    }
  }

  /** The view for a newly displayed image (the `b` key's blink): the same sky centre and scale
   * (both images have a WCS), else the same pixels (one shape), else the whole image. Twin of
   * `aligned_view` in src/snapscope/widgets/_viewport.py (Python's `blink`). */
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

  /** Write the view to `_view` after PUSH_MS (debounced). */
  pushView(): void {
    if (this.pushTimer) return;
    this.pushTimer = window.setTimeout(() => {
      this.pushTimer = 0;
      const img = this.image();
      if (!img || !this.view || this.signal.aborted) return;
      this.pushed = { key: img.key, x: this.view.cx, y: this.view.cy, fov: V.zoomToFov(this.view.zoom, this.size) };
      this.model.set("_view", this.pushed);
      this.model.save_changes();
    }, PUSH_MS);
  }
}
