// ImageWidget traits for the viewer's unit tests: images with a small tile pyramid, a linear
// gray display, float32 tile replies as the kernel sends them.
import type { DisplayTrait, ImageTrait, Traits, WcsGridTrait } from "../../src/model";
import { MSG_TILE, PLANE_DATA, type TileAddress, type TileReplyMsg } from "../../src/protocol";
import { FakeModel } from "./fakeModel";

/** An image of width × height with tiles of `tile` pixels (levels halve until one tile fits). */
export function imageTrait(key: string, width: number, height: number, tile = 64, wcs: WcsGridTrait | null = null): ImageTrait {
  const levels: [number, number][] = [[height, width]];
  while (levels[levels.length - 1][0] > tile || levels[levels.length - 1][1] > tile) {
    const [h, w] = levels[levels.length - 1];
    levels.push([Math.ceil(h / 2), Math.ceil(w / 2)]);
  }
  return { key, label: key, width, height, tile_size: tile, levels, has_mask: false, wcs, quantiles: null };
}

export function displayTrait(vmin = 0, vmax = 100): DisplayTrait {
  return {
    vmin, vmax, stretch: { name: "linear", params: [], lut: null }, cmap: "gray",
    cmap_lut: new DataView(new ArrayBuffer(0)), cuts: { kind: "manual" },
  };
}

/** A tile reply header and its float32 buffer (values row 0 first), as the kernel sends them. */
export function tileReply(a: TileAddress, shape: [number, number], fill = 50): [TileReplyMsg, DataView] {
  const values = new Float32Array(shape[0] * shape[1]).fill(fill);
  return [{ kind: MSG_TILE, id: null, ...a, dtype: "float32", shape, scale: 1 }, new DataView(values.buffer)];
}

/** The overview tile address of an image. */
export function overviewOf(img: ImageTrait): TileAddress {
  return { key: img.key, plane: PLANE_DATA, level: img.levels.length - 1, tx: 0, ty: 0 };
}

/** A model holding `images` (the last one displayed, no `_view` yet). */
export function imageModel(...images: ImageTrait[]): FakeModel<Traits> {
  const last = images[images.length - 1];
  return new FakeModel<Traits>({
    _images: Object.fromEntries(images.map((i) => [i.key, i])),
    _displayed: last?.key ?? "",
    _displays: Object.fromEntries(images.map((i) => [i.key, displayTrait()])),
    _colormaps: {},
    _view: null,
    _catalogs: [],
    _overview: null,
    _viewer_size: [600, 480],
    _last_error: "",
    _link: null,
    show_mask: false,
    height: "300px",
    renderer: "canvas",
  });
}
