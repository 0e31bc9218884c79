// selftest.mjs - the contract validator can fail: a log of responses the
// description allows and of responses it does not is checked, and the
// counts must be exactly the expected ones. Run by tests/contract/run.sh
// before the real log.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const rec = (method, p, status, ct, body, headers = '', request) =>
	JSON.stringify({ suite: 'selftest', method, url: 'https://x' + p, on_stack: true, path: p, status,
		content_type: ct, headers: `HTTP/2 ${status}\r\n${headers}`,
		body: typeof body === 'string' ? body : JSON.stringify(body),
		...(request ? { request_content_type: 'application/json', request_body: JSON.stringify(request) } : {}) });
const job = { id: '0123456789abcdef01234567', type: 'email', status: 'pending', attempts: 0, to: null,
	template: null, last_error: null, message_id: null, created_at: null, updated_at: null, run_after: null,
	lease_until: null, sent_at: null, finished_at: null, dead_at: null };
const slugs = { 401: 'unauthenticated', 403: 'forbidden', 404: 'not-found', 418: 'internal' };
const problem = (status) => ({ type: `/problems/${slugs[status]}`, title: 'x', status });
const good = [
	rec('GET', '/api/v1/health', 200, 'application/json', { status: 'ok' }),
	rec('HEAD', '/api/v1/health', 200, 'application/json', ''),
	rec('GET', '/api/v1/products/facets?size=M', 200, 'application/json',
		{ sizes: [], colors: [], options: {}, brands: [], categories: [],
		  availability: { in_stock: 0, total: 0 }, price: { min: null, max: null, count: 0 } }),
	rec('GET', '/api/v1/products/some-slug', 404, 'application/problem+json', problem(404)),
	rec('GET', '/api/v1/admin/jobs', 401, 'application/problem+json', problem(401)),
	rec('DELETE', '/api/v1/me/addresses/0123456789abcdef01234567', 204, null, ''),
	rec('GET', '/api/v1/products/x', 304, null, '', 'etag: "a-1-0"\r\n'),
	rec('GET', '/api/v1/admin/jobs?status=dead&limit=5', 401, 'application/problem+json', problem(401)),
	rec('POST', '/api/v1/admin/jobs/0123456789abcdef01234567/retry', 200, 'application/json', job),
	rec('POST', '/api/v1/auth/logout', 204, null, '', '', { refresh_token: 'x' }),
];
const bad = [
	rec('GET', '/api/v1/health', 200, 'application/json', { status: 'ok', leaked: 1 }),   // extra field
	rec('GET', '/api/v1/health', 418, 'application/problem+json', problem(418)),         // status not listed
	rec('GET', '/api/v1/health', 200, 'text/html', '<p>ok</p>'),                         // content type
	rec('GET', '/api/v1/no-such-route', 200, 'application/json', {}),                    // path
	rec('PUT', '/api/v1/health', 200, 'application/json', { status: 'ok' }),             // method
	rec('GET', '/api/v1/admin/jobs', 401, 'application/problem+json', { title: 'x' }),   // problem shape
	rec('GET', '/api/v1/admin/jobs', 401, 'application/problem+json',                   // a type no page documents
		{ type: 'about:blank', title: 'x', status: 401 }),
	rec('DELETE', '/api/v1/me/addresses/0123456789abcdef01234567', 204, null, 'body'),   // 204 with a body
	rec('GET', '/api/v1/health', 200, 'application/json', '{not json'),                  // not JSON
	rec('GET', '/api/v1/admin/jobs', 401, 'application/problem+json', problem(403)),     // status differs
	rec('GET', '/api/v1/products/x', 304, null, ''),                                     // no ETag
	rec('GET', '/api/v1/health?verbose=1', 200, 'application/json', { status: 'ok' }),   // undeclared parameter taken
	rec('GET', '/api/v1/products?limit=500', 200, 'application/json', { items: [], next_cursor: null }), // out of range taken
	rec('POST', '/api/v1/auth/logout', 204, null, '', '', { refresh_token: 'x', role: 'admin' }), // body field taken
];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'contract-selftest-'));
const log = path.join(dir, 'log.jsonl');
fs.writeFileSync(log, [...good, ...bad].join('\n') + '\n');
let out;
try {
	out = execFileSync('node', [path.join(here, 'validate.mjs'), log], { encoding: 'utf8' });
} catch (e) {
	out = e.stdout;
}
fs.rmSync(dir, { recursive: true });
const want = `responses: ${good.length} passed, ${bad.length} failed`;
const last = out.trim().split('\n').pop();
if (last !== want) {
	console.log(out);
	console.log(`not ok - validator self-test: expected "${want}", got "${last}"`);
	process.exit(1);
}
console.log(`ok - validator self-test: ${good.length} allowed responses pass, ${bad.length} others fail`);
