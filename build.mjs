// Bundle the front end into src/snapscope/static/: one self-contained ESM file per widget class
// (no CDN imports, no shared chunks: anywidget loads each file alone), as
// src/snapscope/widgets/_bundles.py names them and pyproject.toml lists them as artifacts.
import * as esbuild from "esbuild";

const production = process.env.NODE_ENV !== "development";
await esbuild.build({
  entryPoints: {
    widget: "js/src/widget.ts", // ImageWidget and CompareView
    datatable: "js/src/views/datatable.ts",
    thumbnails: "js/src/views/thumbnails.ts",
  },
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: production,
  sourcemap: production ? false : "inline",
  define: { "define.amd": "false" },
  outdir: "src/snapscope/static",
  logLevel: "warning",
});
