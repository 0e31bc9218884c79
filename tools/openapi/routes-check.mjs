// routes-check.mjs - the description and the server's route tables list
// the same routes. Reads every `{ "METHOD", "/api/...", handler, EM_ROLE_X`
// entry of src/*/*_routes.c and every operation of the description (with
// its x-role), and reports a route without an operation, an operation
// without a route, and a role that differs. Usage: node routes-check.mjs DOC.yaml
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';

const here = path.dirname(new URL(import.meta.url).pathname);
const src = path.resolve(here, '../../src');
let doc;
try {
	doc = yaml.load(fs.readFileSync(process.argv[2], "utf8"));
} catch (e) {
	console.log(`  ${process.argv[2]}: ${e.message.split("\n")[0]}`);
	process.exit(1);
}
const routes = new Map();
const entry = /\{\s*"(GET|POST|PUT|PATCH|DELETE)"\s*,\s*"(\/api\/[^"]*)"\s*,\s*\w+\s*,\s*EM_ROLE_([A-Z]+)/g;
for (const mod of fs.readdirSync(src)) {
	const dir = path.join(src, mod);
	if (!fs.statSync(dir).isDirectory()) continue;
	for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('_routes.c'))) {
		const text = fs.readFileSync(path.join(dir, f), 'utf8');
		for (const m of text.matchAll(entry))
			routes.set(`${m[1]} ${m[2]}`, { role: m[3].toLowerCase(), file: `src/${mod}/${f}` });
	}
}
const ops = new Map();
for (const [p, item] of Object.entries(doc.paths || {}))
	for (const m of ['get', 'put', 'post', 'patch', 'delete'])
		// nginx answers x-served-by operations itself (no route table)
		if (item[m] && !item[m]['x-served-by']) ops.set(`${m.toUpperCase()} ${p}`, item[m]['x-role']);

let bad = 0;
for (const [k, r] of routes) {
	if (!ops.has(k)) { console.log(`  ${r.file}: ${k} has no operation in the description`); bad++; }
	else if (ops.get(k) !== r.role) {
		console.log(`  ${k}: the route table says role ${r.role}, the description x-role ${ops.get(k)}`);
		bad++;
	}
}
for (const k of ops.keys())
	if (!routes.has(k)) { console.log(`  ${k} is described but no route table has it`); bad++; }
if (routes.size === 0) { console.log('  no route found in src/*/*_routes.c (the pattern is out of date?)'); bad++; }
console.log(`  ${routes.size} routes, ${ops.size} operations`);
process.exit(bad ? 1 : 0);
