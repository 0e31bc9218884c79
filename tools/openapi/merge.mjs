// merge.mjs - joins docs/api/_root.yaml and every module fragment
// docs/api/<module>.yaml into one OpenAPI document (written as YAML to the
// file given as the first argument). tools/openapi/build.sh then runs
// `redocly bundle` on it (resolving and checking every $ref) and lints it.
//
// A fragment has `paths:` and optionally `components:` (schemas,
// responses, parameters, headers). Everything it refers to is addressed
// as in the merged document (`#/components/schemas/Problem`). The merge
// refuses: a key other than paths/components (and x-*), the same path +
// method in two fragments, and a component defined twice with different
// content (the old `cat` merge let the last one win silently).
//
// The answers every operation can get from the layers in front of its
// handler are added here, once, instead of being copied into every
// fragment (see x-emporium-common-responses in _root.yaml): the request
// parser and nginx (400, 414, 429, 500, 502, 503, 504), the
// authenticator for operations with a bearer requirement (401; 403 when
// x-role is above customer), and the JSON body reader for operations with
// an application/json request body (413, 415). A fragment that lists one
// of these statuses itself keeps its own.
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';

const here = path.dirname(new URL(import.meta.url).pathname);
// EMPORIUM_API_DIR: another fragment directory (tools/openapi/selftest.sh)
const apiDir = process.env.EMPORIUM_API_DIR || path.resolve(here, '../../docs/api');
const out = process.argv[2];
if (!out) {
	console.error('usage: node merge.mjs OUT.yaml');
	process.exit(2);
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const ROLES = ['public', 'customer', 'staff', 'admin'];
const errors = [];
const fail = (msg) => errors.push(msg);

function load(file) {
	try {
		return yaml.load(fs.readFileSync(file, 'utf8'), { filename: file, json: false });
	} catch (e) {
		console.error(`${path.relative(process.cwd(), file)}: ${e.message}`);
		process.exit(1);
	}
}

// js-yaml keeps the last of two equal keys only with json:true; without it
// a duplicate key is an error, which is what we want (load() above).
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

const root = load(path.join(apiDir, '_root.yaml'));
const common = root['x-emporium-common-responses'];
delete root['x-emporium-common-responses'];
if (!common || typeof common !== 'object')
	fail('_root.yaml: x-emporium-common-responses is missing');
root.paths = root.paths || {};
root.components = root.components || {};
const owner = {}; // "get /path" or "schemas/Name" -> file that defined it
for (const [p, item] of Object.entries(root.paths))
	for (const m of Object.keys(item)) if (METHODS.includes(m)) owner[`${m} ${p}`] = '_root.yaml';
for (const [sect, defs] of Object.entries(root.components))
	for (const name of Object.keys(defs || {})) owner[`${sect}/${name}`] = '_root.yaml';

const frags = fs.readdirSync(apiDir).filter((f) => f.endsWith('.yaml') && f !== '_root.yaml').sort();
for (const f of frags) {
	const doc = load(path.join(apiDir, f)) || {};
	for (const k of Object.keys(doc))
		if (k !== 'paths' && k !== 'components' && !k.startsWith('x-'))
			fail(`${f}: top-level key "${k}" is not allowed in a fragment (only paths, components)`);
	for (const [p, item] of Object.entries(doc.paths || {})) {
		const target = (root.paths[p] = root.paths[p] || {});
		for (const [k, v] of Object.entries(item)) {
			if (METHODS.includes(k)) {
				if (owner[`${k} ${p}`]) {
					fail(`${f}: ${k.toUpperCase()} ${p} is already described in ${owner[`${k} ${p}`]}`);
					continue;
				}
				owner[`${k} ${p}`] = f;
				target[k] = v;
			} else if (k in target && !same(target[k], v)) {
				fail(`${f}: path-level "${k}" of ${p} differs from another fragment's`);
			} else {
				target[k] = v;
			}
		}
	}
	for (const [sect, defs] of Object.entries(doc.components || {})) {
		const target = (root.components[sect] = root.components[sect] || {});
		for (const [name, def] of Object.entries(defs || {})) {
			if (name in target && !same(target[name], def)) {
				fail(`${f}: components/${sect}/${name} is already defined differently in ${owner[`${sect}/${name}`]}`);
				continue;
			}
			owner[`${sect}/${name}`] = owner[`${sect}/${name}`] || f;
			target[name] = def;
		}
	}
}

// the common answers, and the x-role <-> security consistency check
for (const [p, item] of Object.entries(root.paths)) {
	for (const m of METHODS) {
		const op = item[m];
		if (!op) continue;
		const where = `${owner[`${m} ${p}`]}: ${m.toUpperCase()} ${p}`;
		const role = op['x-role'];
		if (!ROLES.includes(role)) {
			fail(`${where}: x-role must be one of ${ROLES.join(', ')} (the route table's role)`);
			continue;
		}
		if (!Array.isArray(op.security)) {
			fail(`${where}: declare security (${role === 'public' ? '[]' : '[{bearer: []}]'})`);
			continue;
		}
		// public: no requirement, or an empty one among them (optional
		// sign-in: security: [{}, {bearer: []}]); any other role: a token
		const anonymous = op.security.length === 0 ||
			op.security.some((r) => r && typeof r === 'object' && Object.keys(r).length === 0);
		if ((role === 'public') !== anonymous)
			fail(`${where}: x-role ${role} does not match its security (public: [] or [{}, {bearer: []}]; ` +
				'signed-in roles: [{bearer: []}])');
		op.responses = op.responses || {};
		if (!Object.keys(op.responses).some((st) => /^[23]\d\d$/.test(st)))
			fail(`${where}: no success (2xx or 3xx) response`);
		const add = (status, ref) => {
			if (!(status in op.responses)) op.responses[status] = { $ref: ref };
		};
		for (const [status, ref] of Object.entries(common.all || {})) add(status, ref);
		if (role !== 'public')
			for (const [status, ref] of Object.entries(common.authenticated || {})) add(status, ref);
		if (role === 'staff' || role === 'admin')
			for (const [status, ref] of Object.entries(common.role || {})) add(status, ref);
		if (op.requestBody && op.requestBody.content && op.requestBody.content['application/json'])
			for (const [status, ref] of Object.entries(common.json_body || {})) add(status, ref);
		// responses in status order, for readers of the generated file
		op.responses = Object.fromEntries(Object.entries(op.responses).sort(([a], [b]) => a.localeCompare(b)));
	}
}
root.paths = Object.fromEntries(Object.entries(root.paths).sort(([a], [b]) => a.localeCompare(b)));
for (const sect of Object.keys(root.components))
	if (sect !== 'securitySchemes')
		root.components[sect] = Object.fromEntries(
			Object.entries(root.components[sect]).sort(([a], [b]) => a.localeCompare(b)));

if (errors.length) {
	for (const e of errors) console.error(`docs/api/${e}`);
	process.exit(1);
}
fs.writeFileSync(out, yaml.dump(root, { lineWidth: 100, noRefs: true }));
