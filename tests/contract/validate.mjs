// validate.mjs - the contract test: every response the integration suites
// got through the stack is checked against docs/openapi.yaml.
//
//   node tests/contract/validate.mjs LOG.jsonl [docs/openapi.yaml]
//
// LOG.jsonl is written by tests/integration/harness.c (EM_CONTRACT_LOG, by
// default $STACK_DIR/contract.jsonl): one line {suite, method, url,
// on_stack, path, status, content_type, headers, body, request_content_type,
// request_body} per response. For each response under /api/:
//   - the path must match a path template of the description and the
//     method one of its operations (HEAD is checked as GET, without a body),
//   - the status must be one the operation lists,
//   - the Content-Type must be one the response lists (or none at all when
//     it lists no content), and a JSON body must validate against its
//     schema (JSON Schema 2020-12, ajv, formats checked); a problem
//     document's status must be the HTTP status,
//   - the headers the response declares `required` must be there,
//   - a request the server took (2xx/3xx) used only declared query
//     parameters, with values their schemas allow, and a JSON body its
//     request schema allows (else the description misses what the server
//     accepts).
// A response that breaks any of these is a failure. The only exceptions
// are the deliberate protocol probes listed in probes.json (each with the
// reason); responses outside /api/ (/media/, /admin/, the HTTP redirect,
// the OIDC provider, ...) are not part of the API and are only counted.
// Ends with "responses: N passed, N failed".
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const here = path.dirname(new URL(import.meta.url).pathname);
const [logFile, docFile = path.resolve(here, '../../docs/openapi.yaml')] = process.argv.slice(2);
if (!logFile) {
	console.error('usage: node validate.mjs LOG.jsonl [openapi.yaml]');
	process.exit(2);
}
const doc = yaml.load(fs.readFileSync(docFile, 'utf8'));
const probes = JSON.parse(fs.readFileSync(path.join(here, 'probes.json'), 'utf8')).probes;
for (const p of probes) p.re = new RegExp(p.path);

// ---- the description: schemas compiled once, refs made absolute
const BASE = 'urn:emporium:openapi';
const absolute = (node) => {
	if (Array.isArray(node)) return node.map(absolute);
	if (node && typeof node === 'object') {
		const o = {};
		for (const [k, v] of Object.entries(node))
			o[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#') ? BASE + v : absolute(v);
		return o;
	}
	return node;
};
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: BASE, components: absolute({ schemas: doc.components?.schemas || {} }) });
// what the server accepted is checked without `format` (an annotation in
// JSON Schema 2020-12): the server may take " A@B.TEST " and normalize it
const ajvLoose = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajvLoose.addSchema({ $id: BASE, components: absolute({ schemas: doc.components?.schemas || {} }) });

const pointer = (ref) => ref.replace(/^#\//, '').split('/')
	.map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
	.reduce((o, k) => (o == null ? undefined : o[k]), doc);
const deref = (o) => {
	for (let i = 0; o && o.$ref && i < 10; i++) o = pointer(o.$ref);
	return o;
};

// path templates, literal segments before {params} (as the router's tables
// put /products/facets before /products/{id})
const templates = Object.keys(doc.paths).map((t) => {
	const segs = t.split('/').slice(1);
	return {
		t,
		segs,
		re: new RegExp('^/' + segs.map((s) => (/^\{.+\}$/.test(s) ? '[^/]+'
			: s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/') + '$'),
	};
}).sort((a, b) => {
	for (let i = 0; i < Math.min(a.segs.length, b.segs.length); i++) {
		const pa = a.segs[i].startsWith('{'), pb = b.segs[i].startsWith('{');
		if (pa !== pb) return pa ? 1 : -1;
	}
	return 0;
});
const findTemplate = (p) => templates.find((x) => x.re.test(p));

const validators = new Map();
function validatorFor(key, schema, loose = false) {
	if (!validators.has(key)) validators.set(key, (loose ? ajvLoose : ajv).compile(absolute(schema)));
	return validators.get(key);
}

// ---- the log
const lines = fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
let passed = 0, failed = 0;
const failures = [], probed = new Map(), outside = new Map();
const bump = (m, k) => m.set(k, (m.get(k) || 0) + 1);
const seen = new Set();

function check(rec) {
	const [rawPath] = rec.path.split('?');
	const problems = [];
	const tpl = findTemplate(rawPath);
	const method = rec.method.toLowerCase();
	const item = tpl && doc.paths[tpl.t];
	const opMethod = method === 'head' && item && !item.head ? 'get' : method;
	const op = item && item[opMethod];
	if (!tpl) return [`no path of the description matches ${rawPath}`];
	if (!op) return [`${tpl.t} has no ${rec.method} operation`];
	const where = `${opMethod.toUpperCase()} ${tpl.t} (${op.operationId})`;
	const status = String(rec.status);
	seen.add(op.operationId);
	const resp = deref(op.responses[status] || op.responses[`${status[0]}XX`] || op.responses.default);
	if (!resp) return [`${where} does not list status ${status}`];
	// a request the server took (2xx/3xx) used only parameters the
	// description declares, with values their schemas allow: otherwise the
	// description is missing something the server accepts
	if (rec.status < 400) problems.push(...queryProblems(rec, item, op, where));
	if (rec.status < 400 && rec.request_body !== undefined) problems.push(...bodyProblems(rec, op, where));
	const ct = rec.content_type ? rec.content_type.split(';')[0].trim().toLowerCase() : null;
	const content = resp.content || {};
	// the headers the response declares required (ETag, Location, Retry-After)
	const have = rec.headers === undefined ? null : new Set(rec.headers.split(/\r?\n/).slice(1)
		.map((l) => l.split(':')[0].trim().toLowerCase()).filter(Boolean));
	for (const [name, h] of Object.entries(resp.headers || {}))
		if (have && deref(h) && deref(h).required && !have.has(name.toLowerCase()))
			problems.push(`${where} ${status}: the required header ${name} is missing`);
	if (Object.keys(content).length === 0) {
		if (rec.body.length) problems.push(`${where} ${status} has no body in the description, got ${rec.body.length} bytes (${ct})`);
		return problems;
	}
	if (!ct || !(ct in content)) {
		problems.push(`${where} ${status}: Content-Type ${ct} is not one of ${Object.keys(content).join(', ')}`);
		return problems;
	}
	if (method === 'head') return problems;
	const schema = content[ct].schema;
	if (!schema) return problems;
	let body;
	try {
		body = JSON.parse(rec.body);
	} catch (e) {
		return [`${where} ${status}: the body is not JSON (${e.message})`];
	}
	const v = validatorFor(`${opMethod} ${tpl.t} ${status} ${ct}`, schema);
	if (ct === 'application/problem+json' && body && body.status !== rec.status)
		problems.push(`${where} ${status}: the problem document says status ${body && body.status}`);
	if (!v(body))
		for (const e of v.errors.slice(0, 5))
			problems.push(`${where} ${status}: body${e.instancePath} ${e.message}` +
				(e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ''));
	return problems;
}

// the same for a JSON request body the server took: its media type is one
// the operation accepts and it validates against the request schema
function bodyProblems(rec, op, where) {
	const mt = (rec.request_content_type || '').split(';')[0].trim().toLowerCase();
	const rb = deref(op.requestBody);
	if (!rb) return rec.request_body.length
		? [`${where} ${rec.status}: the server took a request body the operation does not declare`] : [];
	const media = rb.content && rb.content[mt];
	if (!media) return [`${where} ${rec.status}: the server took a ${mt} body; the operation declares ${Object.keys(rb.content || {}).join(', ')}`];
	if (!media.schema) return [];
	let body;
	try {
		body = JSON.parse(rec.request_body);
	} catch {
		return [`${where} ${rec.status}: the server took a request body that is not JSON`];
	}
	const v = validatorFor(`request ${op.operationId} ${mt}`, media.schema, true);
	if (v(body)) return [];
	return v.errors.slice(0, 3).map((e) => `${where} ${rec.status}: the server took a request body the schema refuses: ` +
		`request${e.instancePath} ${e.message}` + (e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ''));
}

function queryProblems(rec, item, op, where) {
	const out = [];
	const declared = new Map();
	for (const p of [...(item.parameters || []), ...(op.parameters || [])].map(deref))
		if (p && p.in === 'query') declared.set(p.name, p);
	const q = rec.path.includes('?') ? rec.path.slice(rec.path.indexOf('?') + 1) : '';
	for (const [name, value] of new URLSearchParams(q)) {
		// x-query-patterns: parameters named by a pattern (option.<name>)
		const p = declared.get(name) || (op['x-query-patterns'] || [])
			.filter((x) => new RegExp(x.pattern).test(name))
			.map((x) => ({ name, in: 'query', schema: x.schema }))[0];
		if (!p) {
			out.push(`${where} ${rec.status}: query parameter ${name} is not declared, yet the server took it`);
			continue;
		}
		if (!p.schema) continue;
		const schema = deref(p.schema.$ref ? p.schema : p.schema);
		const type = schema && (schema.type || (schema.$ref && deref(schema).type));
		let v = value;
		if (type === 'integer' || type === 'number') v = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
		else if (type === 'boolean') v = value === 'true' ? true : value === 'false' ? false : value;
		// style form, explode: each occurrence is a comma-separated list
		else if (type === 'array') v = value.split(',').map((x) => x.trim());
		const check = validatorFor(`param ${op.operationId} ${name}`, p.schema, true);
		if (!check(v))
			out.push(`${where} ${rec.status}: query ${name}=${value.slice(0, 40)} is outside its schema (${check.errors[0].message}), yet the server took it`);
	}
	return out;
}

for (const line of lines) {
	let rec;
	try {
		rec = JSON.parse(line);
	} catch {
		failed++;
		failures.push(`unreadable log line: ${line.slice(0, 120)}`);
		continue;
	}
	if (!rec.on_stack || !rec.path.startsWith('/api/')) {
		bump(outside, rec.on_stack ? rec.path.split('?')[0].split('/').slice(0, 2).join('/') + '/...'
			: new URL(rec.url).protocol + '//' + (new URL(rec.url).port ? 'port ' + new URL(rec.url).port : new URL(rec.url).host));
		continue;
	}
	const probe = probes.find((p) => p.method === rec.method && p.re.test(rec.path) &&
		p.status.includes(rec.status));
	if (probe) {
		// a probe is exempt from the description, not from being an error:
		// it must still be answered with a problem document
		let ok = /^application\/problem\+json/.test(rec.content_type || '') || probe.any_body;
		if (ok && !probe.any_body) {
			try {
				const v = validatorFor('Problem', { $ref: '#/components/schemas/Problem' });
				ok = v(JSON.parse(rec.body));
			} catch {
				ok = false;
			}
		}
		if (ok) {
			bump(probed, probe.reason);
			continue;
		}
		failed++;
		failures.push(`[${rec.suite}] ${rec.method} ${rec.path} -> ${rec.status}: a probe's answer must be a problem document`);
		continue;
	}
	const problems = check(rec);
	if (problems.length === 0) {
		passed++;
		continue;
	}
	failed++;
	for (const p of problems)
		failures.push(`[${rec.suite}] ${rec.method} ${rec.path.slice(0, 120)} -> ${rec.status}: ${p}`);
}

// one line per distinct failure, with how often it happened
const counts = new Map();
for (const f of failures) bump(counts, f.replace(/^\[[^\]]*\] \S+ \S+ -> \d+: /, ''));
const shown = new Set();
for (const f of failures) {
	const k = f.replace(/^\[[^\]]*\] \S+ \S+ -> \d+: /, '');
	if (shown.has(k)) continue;
	shown.add(k);
	console.log(`not ok - ${f}${counts.get(k) > 1 ? ` (x${counts.get(k)})` : ''}`);
	if (shown.size >= 80) {
		console.log(`... and more (${counts.size - shown.size} more distinct failures)`);
		break;
	}
}
for (const [reason, n] of probed) console.log(`# exempt probe (${n}): ${reason}`);
for (const [where, n] of outside) console.log(`# not API, not checked (${n}): ${where}`);
{
	const all = [];
	for (const item of Object.values(doc.paths))
		for (const [m, op] of Object.entries(item))
			if (op && op.operationId && !seen.has(op.operationId)) all.push(`${m.toUpperCase()} ${op.operationId}`);
	if (all.length) console.log(`# operations no suite exercised (${all.length}): ${all.join(', ')}`);
}
if (lines.length === 0) {
	console.log('not ok - the log is empty: was EM_CONTRACT_LOG set for the integration suites?');
	failed++;
}
console.log(`responses: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
