#!/usr/bin/env node
// sslcommerz-standin: a test server for the SSLCOMMERZ v4 merchant APIs
// Emporium uses, following ../shared/SSLCOMMERZ.md (the gateway's developer
// documentation and its official SDKs): session creation, the hosted payment
// page, the IPN (signed with verify_sign/verify_key), order validation,
// transaction query, refund and refund status. No npm dependencies
// (Node >= 18). See README.md.
//
//   node server.js --port 0 --store-id demo --store-password demo-secret \
//       [--ca CERT.pem]   (to trust the shop's self-signed HTTPS for IPNs)
// prints one line when listening:
//   sslcommerz-standin ready on 127.0.0.1:PORT
'use strict';

const http = require('http');
const https = require('https');
const crypto = require('crypto');
const fs = require('fs');
const { URL } = require('url');

const args = { port: '0', host: '127.0.0.1', 'store-id': 'demo', 'store-password': 'demo-secret',
	ca: '', 'refund-after': '1' };
for (let i = 2; i < process.argv.length; i += 2) {
	const k = process.argv[i].replace(/^--/, '');
	if (!(k in args) || i + 1 >= process.argv.length) {
		console.error('usage: server.js [--port P] [--host H] [--store-id ID] [--store-password PW] [--ca FILE] [--refund-after N]');
		process.exit(2);
	}
	args[k] = process.argv[i + 1];
}
const ca = args.ca ? fs.readFileSync(args.ca) : null;
let base = '';

// ---- misbehaviour switches (POST /_standin/config) ----
// slow_ms: every API answer waits this long; fail_validations: the next N
// validation calls answer 500; fail_all: every API answers 503 while set;
// drop_ipn / ipn_twice: the default for customer actions.
const config = { slow_ms: 0, fail_validations: 0, fail_queries: 0, fail_all: false,
	drop_ipn: false, ipn_twice: false };

const sessions = new Map();     // sessionkey -> session
const byTran = new Map();       // tran_id -> sessionkey (the last session of that tran_id)
const byVal = new Map();        // val_id -> transaction
const refunds = new Map();      // refund_ref_id -> refund
const calls = [];               // every request to the gateway APIs, for the tests

const md5 = (s) => crypto.createHash('md5').update(s, 'utf8').digest('hex');
const rnd = (n) => crypto.randomBytes(n).toString('hex');

function readBody(req, max = 1 << 20) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		let n = 0;
		req.on('data', (c) => {
			n += c.length;
			if (n > max) { reject(new Error('too large')); req.destroy(); return; }
			chunks.push(c);
		});
		req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		req.on('error', reject);
	});
}

function formParse(s) {
	const out = {};
	for (const [k, v] of new URLSearchParams(s)) out[k] = v;
	return out;
}

function send(res, status, obj) {
	const body = JSON.stringify(obj);
	res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
	res.end(body);
}

function html(res, status, body) {
	res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
	res.end(body);
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// ---- 1. session: POST /gwprocess/v4/api.php ----

const PROFILES = ['general', 'physical-goods', 'non-physical-goods', 'airline-tickets',
	'travel-vertical', 'telecom-vertical'];
const MANDATORY = ['store_id', 'store_passwd', 'total_amount', 'currency', 'tran_id', 'success_url',
	'fail_url', 'cancel_url', 'product_category', 'product_name', 'product_profile', 'cus_name',
	'cus_email', 'cus_add1', 'cus_city', 'cus_postcode', 'cus_country', 'cus_phone',
	'shipping_method', 'num_of_item'];
const SHIP_MANDATORY = ['ship_name', 'ship_add1', 'ship_city', 'ship_postcode', 'ship_country'];

function credentialsOk(p) {
	return p.store_id === args['store-id'] && p.store_passwd === args['store-password'];
}

function sessionCreate(p) {
	const failed = (why) => ({ status: 'FAILED', failedreason: why, sessionkey: '', GatewayPageURL: '' });
	for (const f of MANDATORY)
		if (p[f] === undefined || p[f] === '') return failed(`Mandatory field '${f}' is missing`);
	if (!credentialsOk(p)) return failed('Store Credential Error Or Store is De-active');
	if (!/^\d+\.\d{2}$/.test(p.total_amount)) return failed('Invalid total_amount');
	const amount = Number(p.total_amount);
	if (!(amount >= 10 && amount <= 500000)) return failed('Invalid Amount. Amount should be between 10.00 and 500000.00');
	if (!/^[A-Z]{3}$/.test(p.currency)) return failed('Invalid currency');
	if (p.tran_id.length > 30) return failed('tran_id is longer than 30 characters');
	if (!PROFILES.includes(p.product_profile)) return failed('Invalid product_profile');
	if (['airline-tickets', 'travel-vertical', 'telecom-vertical'].includes(p.product_profile))
		return failed('This product_profile needs fields the stand-in does not take');
	if (!['YES', 'NO', 'Courier'].includes(p.shipping_method)) return failed('Invalid shipping_method');
	if (p.shipping_method === 'YES')
		for (const f of SHIP_MANDATORY)
			if (!p[f]) return failed(`Mandatory field '${f}' is missing`);
	if (!/^\d+$/.test(p.num_of_item)) return failed('Invalid num_of_item');
	for (const u of ['success_url', 'fail_url', 'cancel_url', 'ipn_url'])
		if (p[u] !== undefined && !/^https?:\/\//.test(p[u])) return failed(`Invalid ${u}`);
	const key = rnd(16).toUpperCase();
	sessions.set(key, { key, fields: p, state: 'open', created: Date.now(), val_id: null });
	byTran.set(p.tran_id, key);
	return { status: 'SUCCESS', failedreason: '', sessionkey: key,
		GatewayPageURL: `${base}/EasyCheckOut/${key}`, storeBanner: '', storeLogo: '', desc: [] };
}

// ---- 2. the customer acts, the IPN is signed and sent ----

// The signature as the official SDKs check it: the verify_key fields plus
// store_passwd = md5(password), sorted by key, k=v joined by '&', md5.
function sign(fields, names, password) {
	const pairs = names.map((k) => [k, fields[k] === undefined ? '' : fields[k]]);
	pairs.push(['store_passwd', md5(password)]);
	pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
	return md5(pairs.map(([k, v]) => `${k}=${v}`).join('&'));
}

const STATUS_OF = { pay: 'VALID', fail: 'FAILED', cancel: 'CANCELLED', expire: 'EXPIRED',
	unattempted: 'UNATTEMPTED' };

// opts: { action, risk_level, amount, currency, password (sign with),
// override {field: value} before signing, tamper {field: value} after
// signing, trim_key (drop a name from verify_key after signing), drop_ipn,
// ipn_twice }
function transact(s, opts) {
	const p = s.fields, status = STATUS_OF[opts.action];
	if (!status) throw new Error('action must be pay, fail, cancel, expire or unattempted');
	const now = new Date();
	const nonBdt = p.currency !== 'BDT';
	const charged = opts.amount !== undefined ? String(opts.amount) : p.total_amount;
	const currency = opts.currency || p.currency;
	const risk = String(opts.risk_level === undefined ? 0 : opts.risk_level);
	const t = {
		status, tran_date: now.toISOString().replace('T', ' ').slice(0, 19), tran_id: p.tran_id,
		val_id: status === 'VALID' ? `${now.toISOString().slice(2, 10).replace(/-/g, '')}${rnd(8)}` : '',
		amount: nonBdt ? (Number(charged) * 110).toFixed(2) : charged,
		store_amount: nonBdt ? (Number(charged) * 110 * 0.975).toFixed(2) : (Number(charged) * 0.975).toFixed(2),
		currency: nonBdt ? 'BDT' : currency, bank_tran_id: status === 'VALID' ? `BT${rnd(8).toUpperCase()}` : '',
		card_type: 'VISA-Dutch Bangla', card_no: '418117XXXXXX6675', card_issuer: 'STANDARD CHARTERED BANK',
		card_brand: 'VISA', card_sub_brand: 'Classic', card_issuer_country: 'Bangladesh', card_issuer_country_code: 'BD',
		currency_type: currency, currency_amount: charged, currency_rate: nonBdt ? '110.0000' : '1.0000',
		base_fair: '0.00', value_a: p.value_a || '', value_b: p.value_b || '', value_c: p.value_c || '',
		value_d: p.value_d || '', risk_level: risk, risk_title: risk === '1' ? 'Risky' : 'Safe',
		error: status === 'VALID' ? '' : 'Declined', store_id: p.store_id,
		validated: 0, refunded_minor: 0, session: s.key,
	};
	s.state = status;
	if (t.val_id) { byVal.set(t.val_id, t); s.val_id = t.val_id; }
	s.tran = t;
	const names = ['amount', 'bank_tran_id', 'base_fair', 'card_brand', 'card_issuer', 'card_issuer_country',
		'card_issuer_country_code', 'card_no', 'card_sub_brand', 'card_type', 'currency', 'currency_amount',
		'currency_rate', 'currency_type', 'risk_level', 'risk_title', 'status', 'store_amount', 'store_id',
		'tran_date', 'tran_id', 'val_id', 'value_a', 'value_b', 'value_c', 'value_d'];
	const form = {};
	for (const k of names) form[k] = t[k];
	form.error = t.error;
	// override: fields changed BEFORE signing (a genuinely signed IPN that
	// names an unknown tran_id, or a val_id the validation API does not know)
	if (opts.override) for (const [k, v] of Object.entries(opts.override)) form[k] = String(v);
	form.verify_sign = sign(form, names, opts.password || args['store-password']);
	form.verify_key = names.join(',');
	// what real payloads carry too, undocumented: a value nobody should check
	form.verify_sign_sha2 = crypto.createHash('sha256').update(form.verify_sign).digest('hex');
	if (opts.trim_key) form.verify_key = names.filter((n) => n !== opts.trim_key).join(',');
	if (opts.tamper) for (const [k, v] of Object.entries(opts.tamper)) form[k] = String(v);
	return form;
}

function post(urlText, form) {
	return new Promise((resolve) => {
		const u = new URL(urlText);
		const body = new URLSearchParams(form).toString();
		const mod = u.protocol === 'https:' ? https : http;
		const req = mod.request(u, { method: 'POST', ca: ca || undefined, timeout: 30000,
			headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body),
				'User-Agent': 'sslcommerz-standin' } }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
		});
		req.on('error', (e) => resolve({ status: 0, body: String(e.message) }));
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.end(body);
	});
}

async function act(s, opts) {
	const form = transact(s, opts);
	const p = s.fields;
	const drop = opts.drop_ipn !== undefined ? opts.drop_ipn : config.drop_ipn;
	const twice = opts.ipn_twice !== undefined ? opts.ipn_twice : config.ipn_twice;
	const ipns = [];
	if (p.ipn_url && !drop) {
		ipns.push(await post(p.ipn_url, form));
		if (twice) ipns.push(await post(p.ipn_url, form));
	}
	const ret = { VALID: p.success_url, FAILED: p.fail_url }[form.status] || p.cancel_url;
	return { form, ipns, return_url: ret };
}

// The hosted page, for a person paying a demo order by hand.
function payPage(s) {
	const p = s.fields;
	const button = (a, label) => `<button name="action" value="${a}">${label}</button>`;
	return `<!doctype html><meta charset="utf-8"><title>SSLCOMMERZ stand-in</title>
<h1>SSLCOMMERZ stand-in (sandbox)</h1>
<p>${esc(p.product_name)}<br>Amount: <b>${esc(p.currency)} ${esc(p.total_amount)}</b><br>tran_id ${esc(p.tran_id)}</p>
<form method="post" action="/EasyCheckOut/${esc(s.key)}">
<label><input type="checkbox" name="risk_level" value="1"> risky (risk_level 1)</label><br>
${button('pay', 'Pay')} ${button('fail', 'Fail')} ${button('cancel', 'Cancel')}
</form>`;
}

// After the customer acted: the browser is POSTed back to the shop, as the
// real page does (an auto-submitting form).
function returnPage(url, form) {
	const inputs = Object.entries(form).map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
	return `<!doctype html><meta charset="utf-8"><title>Returning to the shop</title>
<body onload="document.forms[0].submit()"><form method="post" action="${esc(url)}">${inputs}
<noscript><button>Return to the shop</button></noscript></form>`;
}

// ---- 3. validation, 4. refunds, 5. query ----

function txView(t, status) {
	const out = { status };
	for (const k of ['tran_date', 'tran_id', 'val_id', 'amount', 'store_amount', 'currency', 'bank_tran_id',
		'card_type', 'card_no', 'card_issuer', 'card_brand', 'card_issuer_country', 'card_issuer_country_code',
		'currency_type', 'currency_amount', 'currency_rate', 'base_fair', 'value_a', 'value_b', 'value_c',
		'value_d', 'risk_level', 'risk_title']) out[k] = t[k];
	return out;
}

function validate(q) {
	if (!credentialsOk(q) || q.v !== '1' || q.format !== 'json')
		return { status: 'INVALID_TRANSACTION', error: 'Invalid Store ID or Password', APIConnect: 'INVALID_REQUEST' };
	const t = byVal.get(q.val_id || '');
	if (!t || t.status !== 'VALID') return { status: 'INVALID_TRANSACTION', APIConnect: 'DONE' };
	t.validated += 1;
	return Object.assign(txView(t, t.validated > 1 ? 'VALIDATED' : 'VALID'),
		{ APIConnect: 'DONE', validated_on: new Date().toISOString().replace('T', ' ').slice(0, 19), gw_version: '' });
}

function toMinor(s) {
	const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(String(s));
	return m ? Number(m[1]) * 100 + Number((m[2] || '0').padEnd(2, '0')) : NaN;
}

function transApi(q) {
	if (!credentialsOk(q) || q.v !== '1' || q.format !== 'json')
		return { APIConnect: 'INVALID_REQUEST', status: 'failed', errorReason: 'Invalid Store ID or Password' };
	if (q.refund_ref_id !== undefined) { // refund status
		const r = refunds.get(q.refund_ref_id);
		if (!r) return { APIConnect: 'DONE', status: 'failed', errorReason: 'Invalid refund_ref_id' };
		r.polls += 1;
		if (r.status === 'processing' && r.polls >= Number(args['refund-after'])) {
			r.status = r.cancel ? 'cancelled' : 'refunded';
			r.refunded_on = new Date().toISOString().replace('T', ' ').slice(0, 19);
			if (!r.cancel) r.tran.refunded_minor += r.minor;
		}
		return { APIConnect: 'DONE', bank_tran_id: r.tran.bank_tran_id, tran_id: r.tran.tran_id,
			refund_ref_id: r.ref, initiated_on: r.initiated_on, refunded_on: r.refunded_on || '',
			status: r.status, errorReason: '' };
	}
	if (q.bank_tran_id !== undefined) { // refund initiate
		const t = [...byVal.values()].find((x) => x.bank_tran_id === q.bank_tran_id);
		if (!t) return { APIConnect: 'DONE', status: 'failed', errorReason: 'Invalid bank_tran_id' };
		if (!q.refund_amount || !q.refund_remarks)
			return { APIConnect: 'DONE', status: 'failed', errorReason: 'refund_amount and refund_remarks are required' };
		// refund_remarks containing "fail-me": the gateway refuses the refund
		if (/fail-me/.test(q.refund_remarks))
			return { APIConnect: 'DONE', status: 'failed', errorReason: 'Refund not allowed for this transaction' };
		const minor = toMinor(q.refund_amount);
		let pending = 0;
		for (const r of refunds.values()) if (r.tran === t && r.status === 'processing') pending += r.minor;
		if (!(minor > 0) || minor + pending + t.refunded_minor > toMinor(t.currency_amount))
			return { APIConnect: 'DONE', status: 'failed', errorReason: 'Refund amount exceeds the paid amount' };
		if (q.refe_id) {
			for (const r of refunds.values())
				if (r.refe_id === q.refe_id && r.tran === t)
					return { APIConnect: 'DONE', status: 'processing', bank_tran_id: t.bank_tran_id,
						trans_id: t.tran_id, refund_ref_id: r.ref, errorReason: 'Already initiated' };
		}
		const ref = `RF${rnd(8).toUpperCase()}`;
		refunds.set(ref, { ref, tran: t, minor, status: 'processing', polls: 0, refe_id: q.refe_id || '',
			cancel: /cancel-me/.test(q.refund_remarks),
			initiated_on: new Date().toISOString().replace('T', ' ').slice(0, 19) });
		return { APIConnect: 'DONE', status: 'success', bank_tran_id: t.bank_tran_id, trans_id: t.tran_id,
			refund_ref_id: ref, errorReason: '' };
	}
	if (q.sessionkey !== undefined || q.tran_id !== undefined) { // transaction query
		let list = [];
		if (q.sessionkey !== undefined) {
			const s = sessions.get(q.sessionkey);
			if (s) list = [s];
		} else {
			list = [...sessions.values()].filter((s) => s.fields.tran_id === q.tran_id);
		}
		const el = list.map((s) => (s.tran ? txView(s.tran, s.tran.status === 'VALID' ?
			(s.tran.validated ? 'VALIDATED' : 'VALID') : s.tran.status) :
			{ status: 'PENDING', tran_id: s.fields.tran_id, val_id: '', amount: s.fields.total_amount,
				currency: s.fields.currency }));
		if (q.sessionkey !== undefined)
			return el.length ? Object.assign(el[0], { APIConnect: 'DONE', sessionkey: q.sessionkey })
				: { APIConnect: 'DONE', status: 'INVALID_REQUEST' };
		return { APIConnect: 'DONE', no_of_trans_found: el.length, element: el };
	}
	return { APIConnect: 'INVALID_REQUEST', status: 'failed', errorReason: 'Missing parameters' };
}

// ---- the server ----

const MASK = new Set(['store_passwd']);
function record(method, path, params) {
	const p = {};
	for (const [k, v] of Object.entries(params)) p[k] = MASK.has(k) ? (v === args['store-password'] ? '<right>' : '<wrong>') : v;
	calls.push({ at: Date.now(), method, path, params: p });
	if (calls.length > 5000) calls.shift();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function handle(req, res) {
	const u = new URL(req.url, base);
	const q = Object.fromEntries(u.searchParams);
	const isApi = u.pathname.startsWith('/gwprocess/') || u.pathname.startsWith('/validator/');
	if (isApi) {
		if (config.slow_ms) await sleep(config.slow_ms);
		if (config.fail_all) return send(res, 503, { error: 'Service Unavailable' });
	}
	if (req.method === 'GET' && u.pathname === '/') {
		// what ./scripts/run prints: say what this is and where its pages are
		const open = [...sessions.values()].filter((x) => x.state === 'open').length;
		return html(res, 200, '<!doctype html><meta charset="utf-8"><title>SSLCOMMERZ stand-in</title>' +
			'<h1>SSLCOMMERZ stand-in</h1><p>A local gateway for the demo and the tests: it speaks ' +
			'the session, validation, transaction-query and refund APIs and signs its IPNs as ' +
			'SSLCOMMERZ does. Start a payment from the shop (POST /api/v1/payments/sslcommerz/session): ' +
			'the gateway_url it answers opens this gateway\'s payment page.</p>' +
			'<p>Open sessions: ' + open + '</p>');
	}
	if (req.method === 'POST' && u.pathname === '/gwprocess/v4/api.php') {
		const p = formParse(await readBody(req));
		record('POST', u.pathname, p);
		return send(res, 200, sessionCreate(p));
	}
	if (req.method === 'GET' && u.pathname === '/validator/api/validationserverAPI.php') {
		record('GET', u.pathname, q);
		if (config.fail_validations > 0) {
			config.fail_validations -= 1;
			return send(res, 500, { error: 'Internal Server Error' });
		}
		return send(res, 200, validate(q));
	}
	if (req.method === 'GET' && u.pathname === '/validator/api/merchantTransIDvalidationAPI.php') {
		record('GET', u.pathname, q);
		if (config.fail_queries > 0 && (q.tran_id !== undefined || q.sessionkey !== undefined)) {
			config.fail_queries -= 1;
			return send(res, 500, { error: 'Internal Server Error' });
		}
		return send(res, 200, transApi(q));
	}
	let m = /^\/EasyCheckOut\/([0-9A-F]{32})$/.exec(u.pathname);
	if (m) {
		const s = sessions.get(m[1]);
		if (!s) return html(res, 404, '<p>Invalid session</p>');
		if (req.method === 'GET') return html(res, s.state === 'open' ? 200 : 410,
			s.state === 'open' ? payPage(s) : '<p>This session is closed.</p>');
		if (s.state !== 'open') return html(res, 410, '<p>This session is closed.</p>');
		const f = formParse(await readBody(req));
		const r = await act(s, { action: f.action || 'cancel', risk_level: f.risk_level === '1' ? 1 : 0 });
		return html(res, 200, returnPage(r.return_url, r.form));
	}
	// ---- test controls ----
	if (req.method === 'POST' && u.pathname === '/_standin/act') {
		// { sessionkey | tran_id, action, risk_level, amount, currency, password,
		//   override, tamper, trim_key, drop_ipn, ipn_twice } -> { form, ipns, return_url }
		let o;
		try { o = JSON.parse(await readBody(req)); } catch (e) { return send(res, 400, { error: 'bad JSON' }); }
		const key = o.sessionkey || byTran.get(o.tran_id || '');
		const s = key && sessions.get(key);
		if (!s) return send(res, 404, { error: 'no such session' });
		if (s.state !== 'open' && !o.again) return send(res, 409, { error: `session is ${s.state}` });
		try { return send(res, 200, await act(s, o)); } catch (e) { return send(res, 400, { error: e.message }); }
	}
	if (req.method === 'POST' && u.pathname === '/_standin/config') {
		let o;
		try { o = JSON.parse(await readBody(req)); } catch (e) { return send(res, 400, { error: 'bad JSON' }); }
		for (const k of Object.keys(o)) {
			if (!(k in config)) return send(res, 400, { error: `unknown switch ${k}` });
			config[k] = o[k];
		}
		return send(res, 200, config);
	}
	if (req.method === 'GET' && u.pathname === '/_standin/calls') return send(res, 200, { calls });
	if (req.method === 'GET' && u.pathname === '/_standin/sessions') {
		const out = [];
		for (const s of sessions.values()) out.push({ sessionkey: s.key, tran_id: s.fields.tran_id, state: s.state,
			val_id: s.val_id, total_amount: s.fields.total_amount, currency: s.fields.currency,
			value_a: s.fields.value_a || '' });
		return send(res, 200, { sessions: out });
	}
	if (req.method === 'GET' && u.pathname === '/_standin/refunds') {
		const out = [];
		for (const r of refunds.values()) out.push({ refund_ref_id: r.ref, bank_tran_id: r.tran.bank_tran_id,
			tran_id: r.tran.tran_id, minor: r.minor, status: r.status, polls: r.polls });
		return send(res, 200, { refunds: out });
	}
	return send(res, 404, { error: 'not found' });
}

const server = http.createServer((req, res) => {
	handle(req, res).catch((e) => {
		if (!res.headersSent) send(res, 500, { error: String(e.message) });
	});
});
server.listen(Number(args.port), args.host, () => {
	const a = server.address();
	base = `http://${a.address}:${a.port}`;
	console.log(`sslcommerz-standin ready on ${a.address}:${a.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
