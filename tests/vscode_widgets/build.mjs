// Bundle the harness (harness.mjs with @jupyterlab/services and @vscode/jupyter-ipywidgets8)
// into one folder a loopback server can serve: node build.mjs [outdir]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(process.argv[2] || join(here, '..', '..', '_build', 'vscode_widgets'));
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: [join(here, 'harness.mjs')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  outdir,
  entryNames: 'harness',
  // Fonts and images referenced by widget CSS become files next to the bundle, never URLs
  // to a CDN.
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file',
            '.png': 'file', '.gif': 'file' },
  // The page has a global AMD loader (require.js, as VS Code's webview does); UMD wrappers in
  // bundled packages must not register themselves with it as anonymous modules.
  define: { 'process.env.NODE_ENV': '"production"', define: 'undefined' },
  logLevel: 'warning',
});
copyFileSync(join(here, 'index.html'), join(outdir, 'index.html'));
// VS Code loads require.js into the notebook webview before the widget scripts; the widget
// manager falls back to it for every widget class (see harness.mjs).
copyFileSync(join(here, 'node_modules', 'requirejs', 'require.js'), join(outdir, 'require.js'));
console.log(`built ${outdir}`);
