// build.mjs - builds the admin panel into dist/ (served by nginx at /admin/).
//   node build.mjs [OUTDIR]
// esbuild bundles src/main.jsx (Preact, uPlot and our modules) into one
// script and one stylesheet with content hashes in their names, and
// index.html is written to point at them. No inline script or style is
// emitted: the admin CSP is script-src 'self'; style-src 'self'.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] || join(here, 'dist'));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
	entryPoints: [join(here, 'src/main.jsx')],
	bundle: true,
	minify: true,
	sourcemap: false,
	format: 'esm',
	target: ['chrome100', 'firefox100', 'safari15'],
	jsx: 'automatic',
	jsxImportSource: 'preact',
	entryNames: '[name]-[hash]',
	outdir: out,
	metafile: true,
	logLevel: 'warning',
	legalComments: 'linked',
});
let js = null, css = null;
for (const file of Object.keys(result.metafile.outputs)) {
	if (file.endsWith('.js')) js = basename(file);
	else if (file.endsWith('.css')) css = basename(file);
}
if (!js || !css) throw new Error(`build: expected one .js and one .css, got ${Object.keys(result.metafile.outputs)}`);
const html = readFileSync(join(here, 'index.html'), 'utf8')
	.replace('%APP_JS%', `/admin/${js}`)
	.replace('%APP_CSS%', `/admin/${css}`);
if (/<style|style=|<script>(?!<\/script>)/i.test(html)) throw new Error('build: index.html carries inline script or style (the CSP refuses it)');
writeFileSync(join(out, 'index.html'), html);
// files served as they are (the icon)
cpSync(join(here, 'public'), out, { recursive: true });
console.log(`admin panel built in ${out}: ${js}, ${css}`);
