// The widget's synced traits (Python: src/snapscope/widgets/_image_widget.py) as seen in JS.
// Each interface is the twin of one record of src/snapscope/widgets/_state.py (same fields, same
// types; `name?:` is a record field whose default is None); tests/unit/test_widget_state.py
// compares the two, field by field, and the traits of `Traits` with ImageWidget's synced traits.
import type { AnyModel } from "@anywidget/types";
import type { TileReplyMsg } from "./protocol";
import type { CutsSpec } from "./ui/cuts";

/** WCS grid (Python: widgets/_wcsgrid.py): gnomonic xi/eta (radians) on a pixel grid. */
export interface WcsGridTrait {
  ra0: number;
  dec0: number;
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  nx: number;
  ny: number;
  xi: DataView;
  eta: DataView;
  max_error_arcsec: number;
  lon_name: string;
  lat_name: string;
}

/** Quantile table of an image's pixel sample (Python: _traits.py sample_quantiles). */
export interface QuantilesTrait {
  /** Percentiles (0-100), increasing. */
  p: number[];
  /** Little-endian float64 values at p. */
  q: DataView;
}

/** One loaded image: geometry of its tile pyramid, its WCS grid and its quantiles. */
export interface ImageTrait {
  key: string;
  label: string;
  width: number;
  height: number;
  tile_size: number;
  /** [height, width] of each pyramid level; level 0 is the full image. */
  levels: [number, number][];
  has_mask: boolean;
  wcs: WcsGridTrait | null;
  /** null when the image has no finite pixel. */
  quantiles: QuantilesTrait | null;
}

export interface StretchTrait {
  name: string;
  params: number[];
  /** float32 samples of the stretch on [0, 1] when name is "lut". */
  lut: DataView | null;
}

/** Cuts, stretch and colormap of one image: everything the shader needs. */
export interface DisplayTrait {
  vmin: number;
  vmax: number;
  stretch: StretchTrait;
  cmap: string;
  /** 256 × RGBA uint8. */
  cmap_lut: DataView;
  /** Which interval made vmin, vmax. */
  cuts: CutsSpec;
}

export interface ViewTrait {
  key: string;
  x: number;
  y: number;
  fov: number;
}

/** A view's link group (Python: widgets/_compare.py); group "" is unlinked. */
export interface LinkTrait {
  group: string;
  /** Views follow on the sky, on the pixel grid, or not at all ("none": display only). */
  mode: "wcs" | "pixel" | "none";
  /** Display edits (cuts, stretch, colormap) apply to every pane of the group. */
  display: boolean;
}

export interface CatalogTrait {
  label: string;
  shape: string;
  color: string;
  size: number;
  n: number;
  x: DataView;
  y: DataView;
}

/** The overview tile of the last loaded image, carried by the widget state. */
export interface OverviewTrait extends TileReplyMsg {
  buffer: DataView;
}

export interface Traits {
  _images: Record<string, ImageTrait>;
  _displayed: string;
  _displays: Record<string, DisplayTrait>;
  /** 256 × RGBA uint8 tables of the colormaps the display control offers. */
  _colormaps: Record<string, DataView>;
  _view: ViewTrait | null;
  _catalogs: CatalogTrait[];
  _overview: OverviewTrait | null;
  _viewer_size: [number, number];
  _last_error: string;
  _link: LinkTrait | null;
  show_mask: boolean;
  height: string;
  renderer: "auto" | "webgl2" | "canvas";
}

export type Model = AnyModel<Traits>;

/** Copy a DataView of little-endian float64 values into a Float64Array. */
export function float64s(dv: DataView): Float64Array {
  const out = new Float64Array(dv.byteLength / 8);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat64(i * 8, true);
  return out;
}
