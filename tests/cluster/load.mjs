// load.mjs - steady mixed load on a stack (reads and checkouts through
// nginx), and the order invariants checked in the database afterwards.
// Node >= 18, the mongodb driver of tests/mongo-standin (a devDependency
// there; npm ci installs it).
//
//   node load.mjs setup STATE.json [--customers N] [--skus K]
//       plants N verified customers (and a staff user) in the database,
//       mints their access tokens, gives each an address through the API,
//       and makes one product with K variants (stock 1000000 each)
//   node load.mjs run STATE.json OUT.json --seconds S [--readers R]
//       [--buyers B] [--from I] [--settle S] [--rps N]
//       R loops of reads (health, a product as a signed-in customer, /me)
//       and B loops of checkouts (cart add, POST /orders with an
//       Idempotency-Key; a failed placement is retried with its key until
//       it is placed, at most --settle seconds after the end) for S
//       seconds; buyers use customers I.. (so runs never share a cart).
//       Writes every request (t, kind, status, ms, error) and the placed
//       orders to OUT.json; prints one summary line.
//   node load.mjs mails STATE.json MAILDIR [--wait S]
//       waits until every order of the shop has its confirmation mail in
//       the SMTP catcher's directory; prints orders, missing, doubled
//   node load.mjs verify STATE.json OUT.json...
//       every 201 the clients saw is that customer's order in the
//       database; each customer has exactly one order per placed key (no
//       duplicate, none lost); every order line has its one stock
//       decrement and every decrement its order; every order its one
//       confirmation job; for every SKU initial stock = stock left + units
//       in orders. Prints "ok - ..." / "not ok - ..." lines.
//
// Environment: the stack's stack.env (STACK_BASE, STACK_CA,
// STACK_MONGODB_URI, STACK_JWT_SECRET, STACK_DB_NAME).
import { createRequire } from 'node:module';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../mongo-standin/package.json'));
const { MongoClient, ObjectId } = require('mongodb');

const env = (k, d) => {
	const v = process.env[k] ?? d;
	if (v === undefined) throw new Error(`${k} is not set (source the stack's stack.env)`);
	return v;
};
const base = new URL(env('STACK_BASE'));
const ca = readFileSync(env('STACK_CA'));
const dbName = env('STACK_DB_NAME', 'emporium');
const STOCK0 = 1000000;

function arg(name, dflt) {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

function jwt(sub, role) {
	const now = Math.floor(Date.now() / 1000);
	const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({
		iss: process.env.STACK_JWT_ISSUER || 'emporium', aud: process.env.STACK_JWT_AUDIENCE || 'emporium-api',
		sub, role, jti: randomBytes(16).toString('hex'), iat: now, exp: now + 3600,
	})}`;
	return `${body}.${createHmac('sha256', env('STACK_JWT_SECRET')).update(body).digest('base64url')}`;
}

// request(agent, method, path, {token, body, headers}) -> {status, body,
// headers, ms, error, reused_retry}. Like curl and browsers, a request
// whose reused keep-alive connection turns out closed before any answer
// (the server closed it idle, as nginx does on reload) is sent once more
// on a fresh one: the server never read it.
async function request(agent, method, p, o = {}) {
	const r = await request1(agent, method, p, o);
	if (r.status === 0 && r.reused && !r.answered) {
		const again = await request1(agent, method, p, o);
		again.reused_retry = true;
		return again;
	}
	return r;
}

function request1(agent, method, p, o = {}) {
	const t0 = performance.now();
	const headers = { ...(o.headers || {}) };
	if (o.token) headers.Authorization = `Bearer ${o.token}`;
	let data = null;
	if (o.body !== undefined) {
		data = Buffer.from(typeof o.body === 'string' ? o.body : JSON.stringify(o.body));
		headers['Content-Type'] = 'application/json';
		headers['Content-Length'] = data.length;
	}
	return new Promise((resolve) => {
		let answered = false;
		const req = https.request({
			host: base.hostname, port: base.port, path: p, method, headers, agent, ca,
			timeout: o.timeout ?? 20000,
		}, (res) => {
			answered = true;
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({
				status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString(),
				ms: performance.now() - t0,
			}));
			res.on('error', (e) => resolve({ status: 0, error: e.code || e.message, ms: performance.now() - t0 }));
		});
		req.on('timeout', () => req.destroy(new Error('client timeout')));
		req.on('error', (e) => resolve({ status: 0, error: e.code || e.message, ms: performance.now() - t0,
			reused: req.reusedSocket, answered }));
		if (data) req.write(data);
		req.end();
	});
}
const json = (r) => { try { return JSON.parse(r.body); } catch { return null; } };

async function withDb(fn) {
	const c = new MongoClient(env('STACK_MONGODB_URI'), { serverSelectionTimeoutMS: 10000 });
	await c.connect();
	try { return await fn(c.db(dbName)); } finally { await c.close(); }
}

// ---------------------------------------------------------------- setup
async function setup(stateFile) {
	const n = arg('customers', 64), nskus = arg('skus', 8);
	const tag = `${Date.now().toString(36)}${process.pid.toString(36)}`;
	const now = new Date();
	const users = [];
	const staffId = new ObjectId();
	await withDb(async (db) => {
		const docs = [{ _id: staffId, email: `staff-${tag}@test.invalid`, name: 'Load Staff', role: 'staff',
			email_verified: true, disabled: false, password_hash: null, created_at: now, updated_at: now }];
		for (let i = 0; i < n; i++) {
			const id = new ObjectId();
			users.push({ id: id.toHexString() });
			docs.push({ _id: id, email: `load-${tag}-${i}@test.invalid`, name: 'Load Customer', role: 'customer',
				email_verified: true, disabled: false, password_hash: null, created_at: now, updated_at: now });
		}
		await db.collection('users').insertMany(docs);
	});
	const agent = new https.Agent({ keepAlive: true, maxSockets: 8 });
	const staff = jwt(staffId.toHexString(), 'staff');
	// several products of two SKUs each: a shop, not one hot document that
	// every checkout's transaction writes
	const skus = [], products = [];
	for (let p = 0; p < Math.ceil(nskus / 2); p++) {
		const variants = [];
		for (let k = 2 * p; k < Math.min(nskus, 2 * p + 2); k++) {
			skus.push(`LD${k}-${tag}`);
			variants.push({ sku: skus[k], options: { size: `s${k}` }, price: 10000 + 100 * k, stock: STOCK0 });
		}
		const pr = await request(agent, 'POST', '/api/v1/admin/products', { token: staff, body: {
			title: `Load ${tag} ${p}`, slug: `load-${tag}-${p}`, description: 'cluster fault tests', brand: 'load',
			category: null, status: 'active', options: ['size', 'color'], variants } });
		if (pr.status !== 201) throw new Error(`product: ${pr.status} ${pr.body || pr.error}`);
		products.push(json(pr).id);
	}
	const product = products[0];
	await Promise.all(users.map(async (u) => {
		u.token = jwt(u.id, 'customer');
		for (let tries = 0; ; tries++) {
			const r = await request(agent, 'POST', '/api/v1/me/addresses', { token: u.token, body: {
				name: 'Rahim Uddin', line1: '12 Road 5', city: 'Dhaka', postal_code: '1207', country: 'BD',
				phone: '+8801711000000' } });
			if (r.status === 201) { u.address = json(r).id; break; }
			if (tries > 5) throw new Error(`address: ${r.status} ${r.body || r.error}`);
			await sleep(200);
		}
	}));
	agent.destroy();
	writeFileSync(stateFile, JSON.stringify({ tag, staff, product, products, skus, stock0: STOCK0, users }, null, 1));
	console.log(`setup: ${n} customers, ${products.length} products with ${nskus} SKUs`);
}

// ------------------------------------------------------------------ run
async function run(stateFile, outFile) {
	const st = JSON.parse(readFileSync(stateFile));
	const seconds = arg('seconds', 10), readers = arg('readers', 8), buyers = arg('buyers', 4);
	const from = arg('from', 0), settle = arg('settle', 20), rps = arg('rps', 0);
	if (from + buyers + 1 > st.users.length) throw new Error(`not enough customers for --from ${from} --buyers ${buyers}`);
	const t0 = Date.now();
	const end = t0 + seconds * 1000, hardEnd = end + settle * 1000;
	const log = [];
	const placed = []; // {user, key, id, units: {sku: n}}
	const unresolved = [];
	const rec = (kind, method, r) => {
		log.push({ t: Date.now() - t0, kind, m: method, s: r.status, ms: Math.round(r.ms), e: r.error,
			rr: r.reused_retry ? 1 : undefined,
			ct: r.status >= 400 ? String(r.headers?.['content-type'] || '') : undefined });
		return r;
	};
	const reader = async (i) => {
		const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
		const u = st.users[st.users.length - 1 - (i % 4)]; // customers nobody buys as
		const paths = ['/api/v1/health', `/api/v1/products/${st.product}`, '/api/v1/me'];
		const gap = rps ? (1000 * readers) / rps : 0;
		for (let n = i; Date.now() < end; n++) {
			const p = paths[n % paths.length];
			const t = Date.now();
			rec(p === '/api/v1/health' ? 'health' : 'read', 'GET', await request(agent, 'GET', p,
				{ token: p === '/api/v1/health' ? undefined : u.token }));
			if (gap) await sleep(Math.max(0, gap - (Date.now() - t)));
		}
		agent.destroy();
	};
	const buyer = async (i) => {
		const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
		const u = st.users[from + i];
		for (let n = 0; Date.now() < end; n++) {
			const sku = st.skus[(i + n) % st.skus.length], q = 1 + (n % 2);
			const c = rec('cart', 'POST', await request(agent, 'POST', '/api/v1/cart/items',
				{ token: u.token, body: { sku, quantity: q } }));
			if (c.status !== 200 && c.status !== 201) { await sleep(100); continue; }
			const key = randomBytes(16).toString('hex');
			const body = { shipping_address_id: u.address, payment_method: 'cod' };
			const tFirst = Date.now();
			for (let attempts = 1; ; attempts++) {
				const r = rec('order', 'POST', await request(agent, 'POST', '/api/v1/orders',
					{ token: u.token, body, headers: { 'Idempotency-Key': key } }));
				if (r.status === 201) {
					const o = json(r);
					placed.push({ user: u.id, key, id: o?.id, attempts, t: tFirst - t0, wait_ms: Date.now() - tFirst,
						replayed: r.headers['idempotent-replayed'] === 'true' });
					break;
				}
				// the cart as the client last saw it is what a replay places;
				// a 4xx other than "busy" is the client's fault: give up on it
				const retry = r.status === 0 || r.status >= 500 || r.status === 409 || r.status === 429;
				if (!retry || Date.now() > hardEnd) {
					unresolved.push({ user: u.id, key, status: r.status, body: (r.body || r.error || '').slice(0, 300) });
					break;
				}
				await sleep(Math.min(1000, 1000 * Number(r.headers?.['retry-after'] || 0.2)));
			}
		}
		agent.destroy();
	};
	await Promise.all([...Array(readers).keys()].map(reader).concat([...Array(buyers).keys()].map(buyer)));
	const sum = summarize(log);
	const retried = placed.filter((p) => p.attempts > 1);
	sum.orders_placed = placed.length;
	sum.orders_retried = retried.length;
	sum.max_retried_checkout_ms = retried.length ? Math.max(...retried.map((p) => p.wait_ms)) : 0;
	sum.unresolved = unresolved.length;
	const buyerIds = st.users.slice(from, from + buyers).map((u) => u.id);
	writeFileSync(outFile, JSON.stringify({ t0, seconds, buyers: buyerIds, summary: sum, placed, unresolved, log }));
	console.log(`load: ${sum.requests} requests in ${((Date.now() - t0) / 1000).toFixed(1)} s, ` +
		`${sum.get_failed} failed GETs, ${sum.order_attempt_failed} failed order attempts ` +
		`(${placed.length} orders placed, ${unresolved.length} not placed), ${sum.other_failed} other failures`);
}

function summarize(log) {
	const s = { requests: log.length, get: 0, get_failed: 0, orders_attempts: 0, order_attempt_failed: 0,
		other: 0, other_failed: 0, reused_retries: 0, by_status: {} };
	for (const r of log) {
		if (r.rr) s.reused_retries++;
		s.by_status[`${r.kind} ${r.s}${r.e ? ` ${r.e}` : ''}`] = (s.by_status[`${r.kind} ${r.s}${r.e ? ` ${r.e}` : ''}`] || 0) + 1;
		if (r.m === 'GET') { s.get++; if (r.s !== 200) s.get_failed++; }
		else if (r.kind === 'order') { s.orders_attempts++; if (r.s !== 201) s.order_attempt_failed++; }
		else { s.other++; if (r.s !== 200 && r.s !== 201) s.other_failed++; }
	}
	const ms = log.filter((r) => r.m === 'GET').map((r) => r.ms).sort((a, b) => a - b);
	const q = (p) => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] : 0);
	s.get_p50_ms = q(0.5); s.get_p99_ms = q(0.99); s.get_max_ms = ms.length ? ms[ms.length - 1] : 0;
	s.failed = s.get_failed + s.other_failed;
	return s;
}

// --------------------------------------------------------------- verify
async function verify(stateFile, outFiles) {
	const st = JSON.parse(readFileSync(stateFile));
	let pass = 0, fail = 0;
	const check = (ok, name, why) => {
		if (ok) { pass++; console.log(`ok - ${name}`); } else { fail++; console.log(`not ok - ${name}${why ? `: ${why}` : ''}`); }
	};
	const placed = [], unresolved = [], buyers = [];
	for (const f of outFiles) {
		const o = JSON.parse(readFileSync(f));
		placed.push(...o.placed); unresolved.push(...o.unresolved); buyers.push(...o.buyers);
	}
	await withDb(async (db) => {
		// the runs' customers: their orders are the runs' orders
		const ours = buyers.map((u) => new ObjectId(u));
		const orders = await db.collection('orders').find({ user_id: { $in: ours } }).toArray();
		const byId = new Map(orders.map((o) => [o._id.toHexString(), o]));
		// every 201 is its customer's order in the database
		const lost = placed.filter((p) => !byId.has(p.id) || byId.get(p.id).user_id.toHexString() !== p.user);
		check(lost.length === 0, `every 201 the clients saw (${placed.length}) is an order in the database`,
			`${lost.length} missing, e.g. ${JSON.stringify(lost[0])}`);
		// one order per placed key: as many orders as keys, each key one id
		const keys = new Map();
		for (const p of placed) {
			if (!keys.has(p.key)) keys.set(p.key, new Set());
			keys.get(p.key).add(p.id);
		}
		const split = [...keys.values()].filter((s) => s.size !== 1).length;
		check(split === 0, 'each Idempotency-Key answered with one order, however often retried', `${split} keys with several orders`);
		const perUser = new Map();
		for (const o of orders) perUser.set(o.user_id.toHexString(), (perUser.get(o.user_id.toHexString()) || 0) + 1);
		const keysPerUser = new Map();
		for (const p of placed) keysPerUser.set(p.user, (keysPerUser.get(p.user) || 0) + 1);
		let dup = 0, extra = 0;
		for (const [u, n] of perUser) {
			const want = keysPerUser.get(u) || 0;
			const open = unresolved.filter((x) => x.user === u).length;
			if (n > want + open) dup += n - want - open;
			if (n > want) extra += n - want;
		}
		check(dup === 0, `no duplicated order: ${orders.length} orders for ${keys.size} placed keys` +
			` (+${unresolved.length} keys never answered 201, ${extra} of them placed)`, `${dup} orders more than keys`);
		check(unresolved.length === 0, 'every checkout was placed in the end (retried with its key)',
			`${unresolved.length}: ${JSON.stringify(unresolved.slice(0, 3))}`);
		// no order half-written: lines <-> decrements, one confirmation job
		// each; over every order of the shop's SKUs (all runs so far), as
		// the stock left is
		const all = await db.collection('orders').find({ 'lines.sku': { $in: st.skus } }).toArray();
		const units = Object.fromEntries(st.skus.map((s) => [s, 0]));
		let lines = 0, badLines = 0, badJobs = 0;
		const adj = await db.collection('inventory_adjustments').find({ sku: { $in: st.skus }, reason: /^order / }).toArray();
		const adjKey = new Map();
		for (const a of adj) { const k = `${a.reason}|${a.sku}|${a.delta}`; adjKey.set(k, (adjKey.get(k) || 0) + 1); }
		const jobs = await db.collection('jobs').find({ dedupe_key: { $in: all.map((o) => `order_confirmation:${o.number}`) } }).toArray();
		const jobCount = new Map();
		for (const j of jobs) jobCount.set(j.dedupe_key, (jobCount.get(j.dedupe_key) || 0) + 1);
		for (const o of all) {
			if (jobCount.get(`order_confirmation:${o.number}`) !== 1) badJobs++;
			for (const l of o.lines) {
				lines++;
				if (o.status !== 'cancelled' && l.sku in units) units[l.sku] += Number(l.quantity);
				if (adjKey.get(`order ${o.number}|${l.sku}|${-Number(l.quantity)}`) !== 1) badLines++;
			}
		}
		check(badLines === 0 && adj.length === lines, `no order half-written: ${lines} lines, ${adj.length} stock decrements, one each`,
			`${badLines} lines without exactly one decrement; ${adj.length} decrements for ${lines} lines`);
		check(badJobs === 0, `every order has its one confirmation job (${all.length})`, `${badJobs} orders without exactly one`);
		const prods = await db.collection('products').find({ _id: { $in: st.products.map((p) => new ObjectId(p)) } }).toArray();
		const left = Object.fromEntries(prods.flatMap((p) => p.variants || []).map((v) => [v.sku, Number(v.stock)]));
		const bad = st.skus.filter((s) => left[s] + units[s] !== st.stock0);
		check(bad.length === 0, `stock: initial = left + ordered for all ${st.skus.length} SKUs`,
			bad.map((s) => `${s}: ${left[s]} + ${units[s]} != ${st.stock0}`).join('; '));
	});
	console.log(`${pass} passed, ${fail} failed`);
	process.exitCode = fail ? 1 : 0;
}

// ---------------------------------------------------------------- mails
// mails STATE MAILDIR --wait S: waits (at most S s) until every order of
// the shop's SKUs has its confirmation mail in MAILDIR (the SMTP
// catcher's .eml files), then reports orders, mails, missing and doubled.
async function mails(stateFile, dirName) {
	const { readdirSync } = await import('node:fs');
	const st = JSON.parse(readFileSync(stateFile));
	const wait = arg('wait', 60) * 1000, t0 = Date.now();
	const orders = await withDb((db) => db.collection('orders').find({ 'lines.sku': { $in: st.skus } },
		{ projection: { number: 1 } }).toArray());
	const want = new Set(orders.map((o) => o.number));
	const seen = new Set(), count = new Map();
	let missing = want.size;
	for (;;) {
		for (const f of readdirSync(dirName)) {
			// a dot file is the catcher still writing (it renames when done):
			// read now, it would count once half-written and again renamed
			if (seen.has(f) || f.startsWith('.') || !f.endsWith('.eml')) continue;
			seen.add(f);
			const m = /^Subject: Order (EM-\d{4}-\d+) confirmed/m.exec(readFileSync(path.join(dirName, f), 'latin1'));
			if (m && want.has(m[1])) count.set(m[1], (count.get(m[1]) || 0) + 1);
		}
		missing = [...want].filter((n) => !count.get(n)).length;
		if (!missing || Date.now() - t0 > wait) break;
		await sleep(200);
	}
	const doubled = [...count.values()].filter((c) => c > 1).length;
	console.log(JSON.stringify({ orders: want.size, mailed: want.size - missing, missing, doubled,
		waited_ms: Date.now() - t0 }));
}

const [cmd, a1, ...rest] = process.argv.slice(2);
const main = { setup: () => setup(a1), run: () => run(a1, rest[0]), verify: () => verify(a1, rest.filter((x) => !x.startsWith('--'))), mails: () => mails(a1, rest[0]) }[cmd];
if (!main || !a1) {
	console.error('usage: load.mjs setup STATE | run STATE OUT --seconds S ... | verify STATE OUT...');
	process.exit(2);
}
main().catch((e) => { console.error(`load.mjs: ${e.stack || e}`); process.exit(1); });
