// Sky-locked views: a pane's pixel view <-> a view on the sky that any other pane turns into
// its own pixel view through its own WCS grid (no kernel round trip). Pure functions, tested in
// js/tests/skyView.test.ts against grids rotated, shifted and scaled with respect to each other.
import type { ViewState } from "../view";
import type { WcsGrid } from "../wcs";

/** A view on the sky, independent of any pixel grid. */
export interface SkyView {
  /** Sky position (degrees) at the centre of the canvas. */
  ra: number;
  dec: number;
  /** Angular size of one CSS pixel (arcsec). */
  scale: number;
  /**
   * Direction of screen-up, as an angle (radians, counter-clockwise in the pixel frame) from
   * north. Panes of opposite parity (one mirrored) cannot share it; they share centre and scale.
   */
  pa: number;
}

/** A pane's view: its pixel view and the rotation (radians, counter-clockwise) of the image on screen. */
export interface PaneView {
  view: ViewState;
  rotation: number;
}

/** An angle in (-π, π]. */
export function wrapAngle(a: number): number {
  const t = a % (2 * Math.PI);
  return t > Math.PI ? t - 2 * Math.PI : t <= -Math.PI ? t + 2 * Math.PI : t;
}

/** The sky view that a pane shows with `view`, rotated on screen by `rotation`. */
export function toSky(grid: WcsGrid, view: ViewState, rotation = 0): SkyView {
  const [ra, dec] = grid.pixelToSky(view.cx, view.cy);
  const f = grid.localFrame(view.cx, view.cy);
  return { ra, dec, scale: f.scale / view.zoom, pa: wrapAngle(Math.PI / 2 - rotation - f.north) };
}

/**
 * The view of a pane in `grid` showing `sky`; `guess` (a pixel near the answer, e.g. the
 * pane's current centre) starts the Newton iterations of the sky -> pixel inversion.
 */
export function fromSky(grid: WcsGrid, sky: SkyView, guess: [number, number]): PaneView {
  // (the rotation is the one that puts the sky's screen-up direction up)
  const [cx, cy] = grid.skyToPixel(sky.ra, sky.dec, guess);
  const f = grid.localFrame(cx, cy);
  return { view: { cx, cy, zoom: f.scale / sky.scale }, rotation: wrapAngle(Math.PI / 2 - f.north - sky.pa) };
}

/** `view` turned so that north is up (east left for images of the usual parity). */
export function northUp(grid: WcsGrid, view: ViewState): ViewState {
  return { ...view, rot: wrapAngle(Math.PI / 2 - grid.localFrame(view.cx, view.cy).north) };
}
