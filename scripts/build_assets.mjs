// Front-end assets built at setup (`make setup` runs `npm run build` after `npm ci`) from the npm
// packages in package-lock.json, into build/static/ (gitignored), which settings.STATICFILES_DIRS
// serves: Pico's stylesheet, and a chart bundle with only the charts the pages draw.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build", "static", "vendor");
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "pico"), { recursive: true });

copyFileSync(
  join(root, "node_modules", "@picocss", "pico", "css", "pico.min.css"),
  join(out, "pico", "pico.min.css"),
);

await build({
  entryPoints: [join(root, "tongxin", "assets", "charts.js")],
  outfile: join(out, "echarts", "charts.min.js"),
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2019",
  legalComments: "none",
  // No source map: the manifest storage would have to find the map of every file it hashes.
  sourcemap: false,
  logLevel: "warning",
});
