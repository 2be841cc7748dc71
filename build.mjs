// Bundle js/src/widget.ts into src/snapscope/static/widget.js (one ESM file, no CDN imports).
import * as esbuild from "esbuild";

const production = process.env.NODE_ENV !== "development";
await esbuild.build({
  entryPoints: ["js/src/widget.ts"],
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: production,
  sourcemap: production ? false : "inline",
  define: { "define.amd": "false" },
  outfile: "src/snapscope/static/widget.js",
  logLevel: "warning",
});
