// panel.test.mjs - the admin panel in Debian's Chromium (playwright-core),
// against the stack tests/browser/run.sh started. Every check is named;
// the run ends with "browser: N passed, N failed" and exits 1 on a failure.
// Console errors, page errors and CSP reports anywhere in the run fail it.
import { chromium } from 'playwright-core';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

const env = (k) => {
	const v = process.env[k];
	if (!v) throw new Error(`panel.test.mjs: ${k} is not set (run it through tests/browser/run.sh)`);
	return v;
};
const BASE = env('STACK_BASE');
const SHOTS = env('BROWSER_SHOTS');
const ADMIN = { email: env('BROWSER_ADMIN_EMAIL'), password: env('BROWSER_ADMIN_PASSWORD') };
const STAFF = { email: env('BROWSER_STAFF_EMAIL'), password: env('BROWSER_STAFF_PASSWORD') };
const CUSTOMER = { email: env('BROWSER_CUSTOMER_EMAIL'), password: env('BROWSER_CUSTOMER_PASSWORD') };
const MAIL_DIR = env('STACK_MAIL_DIR');
const CHROMIUM = process.env.BROWSER_CHROMIUM || '/usr/bin/chromium';
// /work/shared/PITFALLS.md: without the networking flags Chromium keeps
// calling hosts this network refuses; as root (CI) it needs --no-sandbox.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let passed = 0, failed = 0;
const problems = []; // console errors, page errors, CSP reports
let expectHttpErrors = false; // set around steps that provoke a 4xx on purpose

async function check(name, fn) {
	const t0 = Date.now();
	try {
		await fn();
		passed++;
		console.log(`ok - ${name} (${Date.now() - t0} ms)`);
	} catch (e) {
		failed++;
		console.log(`not ok - ${name}: ${String((e && e.message) || e).split('\n').slice(0, 4).join(' | ')}`);
	}
}
function assert(cond, msg) {
	if (!cond) throw new Error(msg);
}
// minor units as the panel writes them: 125050 BDT -> "1250.50 BDT"
const money = (n, cur) => `${n < 0 ? '-' : ''}${Math.floor(Math.abs(n) / 100)}.${String(Math.abs(n) % 100).padStart(2, '0')} ${cur}`;
// RFC 4180: quoted fields, doubled quotes, CRLF rows
function parseCsv(text) {
	const rows = [];
	let row = [], cell = '', q = false;
	for (let i = 0; i < text.length; i++) {
		const ch = text[i];
		if (q) {
			if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
			else if (ch === '"') q = false;
			else cell += ch;
		} else if (ch === '"') q = true;
		else if (ch === ',') row.push(cell), (cell = '');
		else if (ch === '\r' && text[i + 1] === '\n') {
			row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
		} else cell += ch;
	}
	if (cell !== '' || row.length) row.push(cell), rows.push(row);
	return rows;
}
// a CSV number cell: a leading ' guards a negative against formula injection
const csvNum = (c) => Number(String(c).replace(/^'/, ''));

// ---- a PNG of one colour, made here so the test ships no binary ----
function crc32(buf) {
	let c, crc = 0xffffffff;
	for (let n = 0; n < buf.length; n++) {
		c = (crc ^ buf[n]) & 0xff;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		crc = (crc >>> 8) ^ c;
	}
	return (crc ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
	const len = Buffer.alloc(4);
	len.writeUInt32BE(data.length);
	const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(td));
	return Buffer.concat([len, td, crc]);
}
function png(w, h, [r, g, b]) {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(w, 0);
	ihdr.writeUInt32BE(h, 4);
	ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
	const row = Buffer.alloc(1 + w * 3);
	for (let x = 0; x < w; x++) row.set([r, g, b], 1 + x * 3);
	const raw = Buffer.concat(Array.from({ length: h }, () => row));
	return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// ---- the API, straight (setup and cross-checks) ----
async function api(method, path, { token, json, headers: extra = {} } = {}) {
	const headers = { Accept: 'application/json', ...extra };
	if (token) headers.Authorization = `Bearer ${token}`;
	if (json !== undefined) headers['Content-Type'] = 'application/json';
	const res = await fetch(BASE + path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
	const text = await res.text();
	let body = null;
	try { body = text ? JSON.parse(text) : null; } catch { body = text; }
	return { status: res.status, body, headers: res.headers };
}
async function token(who) {
	const r = await api('POST', '/api/v1/auth/login', { json: who });
	assert(r.status === 200, `login ${who.email}: ${r.status} ${JSON.stringify(r.body)}`);
	return r.body.access_token;
}

// RFC 6238 with SHA-256 (what the otpauth URI says), 6 digits, 30 s steps.
function totp(base32, step = Math.floor(Date.now() / 30000)) {
	const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	let bits = '';
	for (const ch of base32.replace(/=+$/, '').toUpperCase()) {
		const v = alpha.indexOf(ch);
		assert(v >= 0, `not base32: ${ch}`);
		bits += v.toString(2).padStart(5, '0');
	}
	const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(step));
	const h = createHmac('sha256', key).update(msg).digest();
	const off = h[h.length - 1] & 0xf;
	return String((h.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// A cash-on-delivery order placed by the customer through the API: the
// account made a customer by the admin, an address, one in-stock SKU in
// the cart, POST /api/v1/orders with an Idempotency-Key.
async function placeOrder(adminToken, payment_method = 'cod') {
	const u = await api('GET', `/api/v1/admin/users?email=${encodeURIComponent(CUSTOMER.email)}`, { token: adminToken });
	assert(u.status === 200 && u.body.items.length === 1, `customer account: ${u.status}`);
	if (u.body.items[0].role !== 'customer') {
		const r = await api('PATCH', `/api/v1/admin/users/${u.body.items[0].id}`, { token: adminToken, json: { role: 'customer' } });
		assert(r.status === 200, `role change: ${r.status}`);
	}
	const ct = await token(CUSTOMER);
	const a = await api('POST', '/api/v1/me/addresses', { token: ct, json: { name: 'Browser Customer', line1: '12 Test Road', city: 'Dhaka', postal_code: '1207', country: 'BD', phone: '+8801700000000' } });
	assert(a.status === 201, `address: ${a.status} ${JSON.stringify(a.body)}`);
	// two units of one SKU (the returns check sends them back one at a time)
	const list = await api('GET', '/api/v1/products?in_stock=true&limit=10');
	let v = null;
	for (const p of list.body.items) {
		const full = await api('GET', `/api/v1/admin/products/${p.id}`, { token: adminToken });
		v = full.body.variants.find((x) => x.stock >= 2);
		if (v) break;
	}
	assert(v, 'no variant with 2 in stock in the demo catalog');
	const c = await api('POST', '/api/v1/cart/items', { token: ct, json: { sku: v.sku, quantity: 2 } });
	assert(c.status === 200 || c.status === 201, `cart: ${c.status} ${JSON.stringify(c.body)}`);
	const o = await api('POST', '/api/v1/orders', { token: ct, json: { shipping_address_id: a.body.id, payment_method }, headers: { 'Idempotency-Key': `browser-${Date.now()}` } });
	assert(o.status === 201, `order: ${o.status} ${JSON.stringify(o.body)}`);
	return o.body;
}
// the .eml files in the SMTP catcher's directory that contain every needle
function mailsWith(...needles) {
	if (!existsSync(MAIL_DIR)) return [];
	return readdirSync(MAIL_DIR)
		.filter((f) => f.endsWith('.eml'))
		.map((f) => readFileSync(join(MAIL_DIR, f), 'utf8'))
		.filter((m) => needles.every((n) => m.includes(n)));
}

// ---- the browser ----
function watch(page, label, sink = problems) {
	page.on('console', (m) => {
		if (m.type() !== 'error' && m.type() !== 'warning') return;
		const text = m.text();
		if (m.type() === 'warning' && !/Content Security Policy|Refused/i.test(text)) return;
		if (expectHttpErrors && /Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
		sink.push(`${label} console ${m.type()}: ${text}`);
	});
	page.on('pageerror', (e) => sink.push(`${label} page error: ${e.message}`));
	page.on('request', (r) => {
		if (r.url().includes('/api/v1/csp-reports')) sink.push(`${label} CSP report: ${r.postData()}`);
	});
}
// POSTs to /api/v1/csp-reports in nginx's access log (reports the browser
// may send outside the page's view)
const LOGS = process.env.BROWSER_NGINX_LOGS;
function reportsLogged() {
	let n = 0;
	if (LOGS && existsSync(LOGS))
		for (const f of readdirSync(LOGS)) if (f.includes('access')) n += readFileSync(join(LOGS, f), 'utf8').split('\n').filter((l) => l.includes('/api/v1/csp-reports')).length;
	return n;
}
let reportBaseline = 0;
async function until(cond, ms, what) {
	const end = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise((ok) => setTimeout(ok, 100));
	}
}
async function shot(page, name) {
	await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}
async function heading(page, text) {
	await page.getByRole('heading', { level: 1, name: text, exact: true }).waitFor();
}
// the nav's short names for screens whose heading is longer
const NAV = { 'Users and roles': 'Users', 'Payment log': 'Payments' };
async function nav(page, name) {
	// on a phone the list is behind the Menu button
	const menu = page.getByRole('button', { name: 'Menu' });
	if (await menu.isVisible()) {
		await menu.click();
		assert((await menu.getAttribute('aria-expanded')) === 'true', 'the Menu button does not say it is open');
	}
	await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: NAV[name] || name, exact: true }).click();
	await heading(page, name);
}
// inputs, selects and textareas without an accessible name
async function unlabelled(page) {
	return page.evaluate(() =>
		[...document.querySelectorAll('input, select, textarea')]
			.filter((el) => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
			.map((el) => el.outerHTML.slice(0, 80))
	);
}
async function noOverflow(page) {
	const w = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
	assert(w[0] <= w[1] + 1, `the page is ${w[0]} px wide in a ${w[1]} px viewport (sideways scrolling)`);
}
async function signIn(page, who) {
	await page.goto(`${BASE}/admin/`);
	await page.getByRole('button', { name: 'Sign in' }).waitFor();
	// by keyboard only: the fields in tab order, Enter submits
	await page.getByLabel('Email').focus();
	await page.keyboard.type(who.email);
	await page.keyboard.press('Tab');
	await page.keyboard.type(who.password);
	await page.keyboard.press('Enter');
	await page.getByRole('navigation', { name: 'Screens' }).waitFor();
}

const run = Date.now().toString(36);
async function main() {
const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true, timeout: 60000 });
try {
	const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
	ctx.setDefaultTimeout(15000);
	const page = await ctx.newPage();
	watch(page, 'admin');
	const adminToken = await token(ADMIN);
	const product = { title: `Browser test jacket ${run}`, slug: `browser-test-jacket-${run}`, sku1: `BT-${run}-M`, sku2: `BT-${run}-L`, id: null };
	const img1 = png(64, 48, [200, 30, 30]), img2 = png(40, 40, [30, 90, 200]);
	const sha = (b) => createHash('sha256').update(b).digest('hex');
	let shipped = null; // the customer's order, shipped and paid from the panel
	let salesReport = null; // the 30-day sales report the dashboard was checked against

	await check('the watchers catch a CSP violation (an inline style injected on purpose, in its own context)', async () => {
		const c = await browser.newContext({ ignoreHTTPSErrors: true });
		const seen = [];
		try {
			const p = await c.newPage();
			watch(p, 'selftest', seen);
			await p.goto(`${BASE}/admin/`);
			const before = reportsLogged();
			await p.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<div style="color:red">x</div>'));
			await until(() => seen.some((x) => x.includes('console error') && /Content Security Policy/.test(x)), 5000, 'the console error');
			await until(() => seen.some((x) => x.includes('CSP report')), 5000, 'the report request');
			await until(() => reportsLogged() > before, 5000, 'the report in the access log');
		} finally {
			await c.close();
			reportBaseline = reportsLogged();
		}
	});

	await check('/admin/ is the built panel under the admin CSP (no unsafe-inline, no unsafe-eval)', async () => {
		const res = await fetch(`${BASE}/admin/`);
		const csp = res.headers.get('content-security-policy') || '';
		const html = await res.text();
		assert(res.status === 200, `status ${res.status}`);
		assert(/script-src 'self'/.test(csp) && /style-src 'self'/.test(csp), `CSP: ${csp}`);
		assert(!/unsafe-inline|unsafe-eval/.test(csp), `CSP allows unsafe code: ${csp}`);
		assert(/<script type="module" src="\/admin\/main-[A-Z0-9]+\.js">/.test(html), 'index.html does not load the bundle');
		assert(!/<style|style=/.test(html), 'index.html has inline styles');
	});

	await check('a wrong password shows the API error on the sign-in screen', async () => {
		await page.goto(`${BASE}/admin/`);
		expectHttpErrors = true;
		await page.getByLabel('Email').fill(ADMIN.email);
		await page.getByLabel('Password').fill('not the password');
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.locator('.error-summary[role=alert]').waitFor();
		expectHttpErrors = false;
		await shot(page, '00-sign-in-error');
	});

	await check('admin signs in by keyboard and lands on the dashboard with its figures and charts', async () => {
		await signIn(page, ADMIN);
		await heading(page, 'Dashboard');
		await page.getByRole('figure', { name: /^Net sales per day, last 30 days/ }).locator('canvas').waitFor();
		await page.getByRole('figure', { name: 'Orders by status, last 30 days' }).locator('canvas').waitFor();
		await page.getByText('dead jobs').waitFor();
		await page.waitForFunction(() => ![...document.querySelectorAll('.card .figure')].some((f) => f.textContent === '…'));
		const dash = await api('GET', '/api/v1/admin/dashboard', { token: adminToken });
		assert(dash.status === 200 && dash.body.role === 'admin', `GET /admin/dashboard: ${dash.status}`);
		// the figures on screen are the API's
		const low = (await page.locator('#work-low_stock .figure').textContent()).trim();
		assert(low === String(dash.body.low_stock), `low stock: panel ${low}, API ${dash.body.low_stock}`);
		const net = (await page.locator('#sales-30d .figure').textContent()).trim();
		assert(net === money(dash.body.sales['30d'].net, dash.body.currency), `30-day net: panel ${net}, API ${dash.body.sales['30d'].net}`);
		await shot(page, '01-dashboard');
	});

	await check('the admin sees every screen, each labelled for screen readers', async () => {
		const links = await page.getByRole('navigation', { name: 'Screens' }).getByRole('link').allTextContents();
		for (const want of ['Dashboard', 'Products', 'Orders', 'Returns', 'Reports', 'Categories', 'Inventory', 'Coupons', 'Users', 'Jobs', 'Payments', 'Security'])
			assert(links.includes(want), `no ${want} in ${links}`);
		const screens = [['Products', '02-products'], ['Orders', '02-orders'], ['Returns', '02-returns'], ['Reports', '02-reports'], ['Categories', '03-categories'], ['Inventory', '04-inventory'], ['Coupons', '05-coupons'], ['Users and roles', '06-users'], ['Jobs', '07-jobs'], ['Payment log', '07-payment-log'], ['Dashboard', null]];
		for (const [name, file] of screens) {
			await nav(page, name);
			await page.waitForLoadState('networkidle');
			const bad = await unlabelled(page);
			assert(bad.length === 0, `${name}: fields without a label: ${bad.join(', ')}`);
			const shape = await page.evaluate(() => [document.querySelectorAll('h1').length, document.querySelectorAll('main').length]);
			assert(shape[0] === 1 && shape[1] === 1, `${name}: ${shape[0]} h1, ${shape[1]} main`);
			// the move happens in an effect after the screen painted: give it a moment
			await page.waitForFunction(() => document.activeElement && document.activeElement.tagName === 'H1', null, { timeout: 3000 }).catch(async () => {
				throw new Error(`${name}: focus is on ${await page.evaluate(() => document.activeElement && document.activeElement.tagName)}, not the screen's heading`);
			});
			if (file) await shot(page, file);
		}
	});

	await check('keyboard: the skip link is the first Tab stop, shows when focused, and moves focus into the main content', async () => {
		await page.goto(`${BASE}/admin/inventory`);
		await heading(page, 'Inventory');
		// the screen first moves focus to its heading (an effect after paint)
		await page.waitForFunction(() => document.activeElement && document.activeElement.tagName === 'H1', null, { timeout: 3000 });
		const first = await page.evaluate(() => {
			const t = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')].filter((e) => e.tabIndex >= 0 && !e.disabled);
			return t[0] && t[0].textContent;
		});
		assert(first === 'Skip to content', `the first Tab stop is ${first}`);
		await page.locator('.skip').focus();
		const box = await page.locator('.skip').boundingBox();
		assert(box && box.x >= 0 && box.y >= 0, `the focused skip link is off screen: ${JSON.stringify(box)}`);
		await page.keyboard.press('Enter');
		await page.keyboard.press('Tab');
		const inMain = await page.evaluate(() => Boolean(document.activeElement.closest('main')));
		assert(inMain, 'after the skip link the next Tab stop is outside main');
	});

	await check('the product list pages with the API cursors (Next, Previous)', async () => {
		await nav(page, 'Products');
		const rows = page.locator('table tbody tr');
		await rows.first().waitFor();
		const first = await rows.first().textContent();
		assert((await rows.count()) === 25, `page 1 has ${await rows.count()} rows`);
		await page.getByRole('button', { name: 'Next' }).click();
		await page.getByText('Page 2').waitFor();
		await page.waitForFunction((f) => document.querySelector('table tbody tr') && document.querySelector('table tbody tr').textContent !== f, first);
		await page.getByRole('button', { name: 'Previous' }).click();
		await page.getByText('Page 1').waitFor();
		await page.waitForFunction((f) => document.querySelector('table tbody tr') && document.querySelector('table tbody tr').textContent === f, first);
	});

	await check('a problem+json error is shown next to the field it names (the slug; a SKU given twice)', async () => {
		await page.getByRole('link', { name: 'New product' }).click();
		await heading(page, 'New product');
		await page.getByLabel('Title', { exact: true }).fill('Bad slug');
		await page.getByLabel('Slug').fill('Not A Slug!');
		await page.locator('#f-variants-0--sku').fill(`BAD-${run}`);
		await page.locator('#f-variants-0--price').fill('10.00');
		expectHttpErrors = true;
		await page.getByRole('button', { name: 'Create product' }).click();
		await page.locator('#f-slug-err').waitFor();
		assert((await page.locator('#f-slug').getAttribute('aria-invalid')) === 'true', 'the slug input is not marked invalid');
		await shot(page, '08-field-error');
		// a SKU twice: the API says "sku"; the panel points at the second one
		await page.getByLabel('Slug').fill(`dup-sku-${run}`);
		await page.getByRole('button', { name: 'Add variant' }).click();
		await page.locator('#f-variants-1--sku').fill(`BAD-${run}`);
		await page.locator('#f-variants-1--price').fill('11.00');
		await page.getByRole('button', { name: 'Create product' }).click();
		await page.locator('#f-variants-1--sku-err').waitFor();
		expectHttpErrors = false;
		// and the summary links to that input
		await page.getByRole('link', { name: 'variants[1].sku' }).click();
		assert(await page.evaluate(() => document.activeElement.id === 'f-variants-1--sku'), 'the summary link did not focus the SKU input');
	});

	await check('create a product with two variants and two images (preview, upload, reorder)', async () => {
		await page.goto(`${BASE}/admin/products/new`); // a reload: the session survives through the refresh cookie
		await heading(page, 'New product');
		await page.getByLabel('Title', { exact: true }).fill(product.title);
		assert((await page.getByLabel('Slug').inputValue()) === product.slug, 'the slug was not derived from the title');
		await page.getByLabel('Brand').fill('Emporium Test');
		await page.getByLabel('Status').selectOption('active');
		await page.locator('#f-variants-0--sku').fill(product.sku1);
		await page.locator('#f-variants-0--options-size').fill('M');
		await page.locator('#f-variants-0--options-color').fill('red');
		await page.locator('#f-variants-0--price').fill('1250.50');
		await page.locator('#f-variants-0--stock').fill('7');
		await page.getByRole('button', { name: 'Add variant' }).click();
		await page.locator('#f-variants-1--sku').fill(product.sku2);
		await page.locator('#f-variants-1--options-size').fill('L');
		await page.locator('#f-variants-1--options-color').fill('red');
		await page.locator('#f-variants-1--price').fill('1300');
		await page.locator('#f-variants-1--stock').fill('3');
		await shot(page, '09-product-new');
		await page.getByRole('button', { name: 'Create product' }).click();
		await page.waitForURL(/\/admin\/products\/[0-9a-f]{24}$/);
		product.id = page.url().split('/').pop();
		await heading(page, 'Edit product');
		const file = page.getByLabel('Image file');
		await file.setInputFiles({ name: 'red.png', mimeType: 'image/png', buffer: img1 });
		await page.getByRole('img', { name: 'Preview of red.png' }).waitFor();
		await page.getByLabel('Alt text').fill('Red jacket, front');
		await page.getByRole('button', { name: 'Upload image' }).click();
		await page.locator('ol.images li').first().waitFor();
		await file.setInputFiles({ name: 'blue.png', mimeType: 'image/png', buffer: img2 });
		await page.getByRole('button', { name: 'Upload image' }).click();
		await page.locator('ol.images li').nth(1).waitFor();
		await page.getByRole('button', { name: 'Move image 2 up' }).click();
		await page.getByText('Image moved to place 1.').waitFor();
		const r = await api('GET', `/api/v1/admin/products/${product.id}`, { token: adminToken });
		assert(r.status === 200, `admin GET ${r.status}`);
		const order = [...r.body.images].sort((a, b) => a.position - b.position).map((i) => i.id);
		assert(order.length === 2 && order[0] === sha(img2) && order[1] === sha(img1), `image order ${order}`);
		assert(r.body.variants.length === 2 && r.body.variants[0].price === 125050 && r.body.variants[1].price === 130000, `variants ${JSON.stringify(r.body.variants)}`);
		await page.locator('ol.images img').nth(1).evaluate((img) => img.decode());
		await shot(page, '10-product-edit');
	});

	await check('the new product is in the public catalog (GET /api/v1/products through nginx)', async () => {
		assert(product.id, 'no product was created');
		let found = null;
		for (let i = 0; i < 20 && !found; i++) {
			// the anonymous catalog is micro-cached for 5 s by nginx
			const r = await api('GET', '/api/v1/products?sort=newest&limit=20');
			assert(r.status === 200, `status ${r.status}`);
			found = r.body.items.find((p) => p.id === product.id);
			if (!found) await new Promise((ok) => setTimeout(ok, 500));
		}
		assert(found, 'not in the first page of the public list');
		assert(found.variants.length === 2 && found.images.length === 2, `public: ${found.variants.length} variants, ${found.images.length} images`);
		// the URL is absolute (the public host); fetched here through the stack's address
		const media = await fetch(BASE + new URL(found.images[0].url, BASE).pathname);
		assert(media.status === 200 && /image\/png/.test(media.headers.get('content-type')), `image ${found.images[0].url}: ${media.status}`);
		const one = await api('GET', `/api/v1/products/${product.id}`);
		assert(one.status === 200 && one.body.title === product.title, `detail ${one.status}`);
	});

	await check('edit the product, then restore the earlier version from its history', async () => {
		assert(product.id, 'no product was created');
		await page.getByLabel('Title', { exact: true }).fill(`${product.title} renamed`);
		await page.getByRole('button', { name: 'Save changes' }).click();
		await page.getByText('Saved.').waitFor();
		const rows = page.locator('section[aria-labelledby=versions-h] tbody tr');
		await rows.first().waitFor();
		// newest first: the top row is the product as it was before the save
		const top = rows.first();
		assert((await top.textContent()).includes(product.title), `the newest version is not the one before the rename: ${await top.textContent()}`);
		const n = (await top.locator('td').first().textContent()).trim();
		await top.getByRole('button', { name: `Restore version ${n}`, exact: true }).click();
		await page.getByText(`Version ${n} restored as a new version.`).waitFor();
		await page.waitForFunction((t) => document.getElementById('f-title').value === t, product.title);
		await shot(page, '11-product-versions');
	});

	await check('a save over someone else\'s change is refused (If-Match) and says so; a reload shows their change', async () => {
		assert(product.id, 'no product was created');
		const cur = await api('GET', `/api/v1/admin/products/${product.id}`, { token: adminToken });
		const etag = cur.headers.get('etag');
		assert(etag, 'the admin product has no ETag');
		const other = await api('PATCH', `/api/v1/admin/products/${product.id}`, { token: adminToken, json: { brand: 'Changed Elsewhere' }, headers: { 'If-Match': etag } });
		assert(other.status === 200, `the concurrent PATCH: ${other.status} ${JSON.stringify(other.body)}`);
		await page.getByLabel('Title', { exact: true }).fill(`${product.title} (stale edit)`);
		expectHttpErrors = true;
		await page.getByRole('button', { name: 'Save changes' }).click();
		await page.getByText('Someone changed this product meanwhile: reload to see their change.').waitFor();
		expectHttpErrors = false;
		const after = await api('GET', `/api/v1/admin/products/${product.id}`, { token: adminToken });
		assert(after.body.title === product.title && after.body.brand === 'Changed Elsewhere', `the stale save went through: ${after.body.title} / ${after.body.brand}`);
		await page.reload();
		await heading(page, 'Edit product');
		await page.waitForFunction(() => document.getElementById('f-brand') && document.getElementById('f-brand').value === 'Changed Elsewhere');
	});

	await check('soft delete and restore the product', async () => {
		assert(product.id, 'no product was created');
		await page.getByRole('button', { name: 'Delete product' }).click();
		await page.getByText('Product deleted (it can be restored).').waitFor();
		let r = await api('GET', `/api/v1/admin/products/${product.id}`, { token: adminToken });
		assert(r.body.deleted_at, 'not deleted in the API');
		await page.getByRole('button', { name: 'Restore product' }).click();
		await page.getByText('Product restored.').waitFor();
		r = await api('GET', `/api/v1/admin/products/${product.id}`, { token: adminToken });
		assert(r.body.deleted_at === null, 'still deleted in the API');
	});

	await check('the product list\'s search finds the product (the catalog\'s full-text search, with its pages)', async () => {
		assert(product.id, 'no product was created');
		await nav(page, 'Products');
		// the run's token is in the title and the SKUs of this product only
		await page.getByLabel('Search active products').fill(run);
		await page.getByRole('button', { name: 'Search', exact: true }).click();
		await page.getByText(`Active products matching “${run}”`).waitFor();
		// the unfiltered page (which holds it too, newest first) is replaced by the answer
		await page.waitForFunction(() => document.querySelectorAll('table tbody tr').length === 1, null, { timeout: 5000 }).catch(async () => {
			throw new Error(`the search for ${run} lists ${await page.locator('table tbody tr').count()} products`);
		});
		await page.getByRole('region', { name: 'Products' }).getByRole('link', { name: product.title, exact: true }).waitFor();
		await shot(page, '11-product-search');
		await page.getByRole('button', { name: 'Clear' }).click();
		await page.waitForFunction(() => document.querySelectorAll('table tbody tr').length === 25);
	});

	await check('adjust stock with a reason; the variant shows in the low-stock list', async () => {
		await nav(page, 'Inventory');
		await page.getByLabel('SKU').fill(product.sku1);
		await page.getByLabel('Change').fill('-5');
		await page.getByLabel('Reason').fill('browser test: damaged');
		await page.getByRole('button', { name: 'Adjust', exact: true }).click();
		await page.getByText(`${product.sku1}: stock 7 → 2 (below its threshold).`).waitFor();
		await page.getByRole('region', { name: 'Low stock' }).getByRole('cell', { name: product.sku1, exact: true }).waitFor();
		await shot(page, '12-inventory-adjusted');
	});

	await check('categories: add two, move the second above the first, rename one', async () => {
		await nav(page, 'Categories');
		for (const n of ['A', 'B']) {
			await page.getByLabel('Name', { exact: true }).fill(`Browser ${run} ${n}`);
			await page.getByLabel('Slug', { exact: true }).fill(`browser-${run}-${n.toLowerCase()}`);
			await page.getByRole('button', { name: 'Add category' }).click();
			await page.getByText(`Browser ${run} ${n} added.`).waitFor();
		}
		await page.getByRole('button', { name: `Move Browser ${run} B up` }).click();
		await page.getByText(`Browser ${run} B moved up.`).waitFor();
		await page.getByRole('button', { name: `Rename Browser ${run} A` }).click();
		await page.getByLabel('New name').fill(`Browser ${run} A2`);
		await page.getByRole('button', { name: 'Save', exact: true }).click();
		await page.getByText(`Browser ${run} A2 saved.`).waitFor();
		// with a token: an anonymous read may come from nginx's 5 s micro-cache
		const r = await api('GET', '/api/v1/categories', { token: adminToken });
		const slugs = r.body.items.map((c) => c.slug);
		const a = slugs.indexOf(`browser-${run}-a`), b = slugs.indexOf(`browser-${run}-b`);
		assert(a >= 0 && b >= 0 && b < a, `top level order: ${slugs.join(', ')}`);
		assert(r.body.items[a].name === `Browser ${run} A2`, `the rename did not stick: ${r.body.items[a].name}`);
		await shot(page, '14-categories');
	});

	await check('create a coupon', async () => {
		await nav(page, 'Coupons');
		await page.getByLabel('Code').fill(`BROWSER${run}`.toUpperCase().slice(0, 32));
		await page.getByLabel('Percent off').fill('12.5');
		await page.getByRole('button', { name: 'Create coupon' }).click();
		await page.getByRole('cell', { name: `BROWSER${run}`.toUpperCase(), exact: true }).waitFor();
		const r = await api('GET', '/api/v1/admin/coupons?limit=100', { token: adminToken });
		const c = r.body.items.find((x) => x.code === `BROWSER${run}`.toUpperCase());
		assert(c && c.percent_bp === 1250 && c.type === 'percent', `coupon ${JSON.stringify(c)}`);
	});

	await check('the admin makes the second account staff on the users screen', async () => {
		await nav(page, 'Users and roles');
		await page.getByLabel('Email starts with').fill('staff@browser');
		await page.getByRole('button', { name: 'Search' }).click();
		const select = page.getByLabel(`Role of ${STAFF.email}`);
		await select.waitFor();
		await select.selectOption('staff');
		// choosing is not saving
		const r0 = await api('GET', `/api/v1/admin/users?email=${encodeURIComponent(STAFF.email)}`, { token: adminToken });
		assert(r0.body.items[0].role === 'admin', `the role changed before Save: ${r0.body.items[0].role}`);
		await page.getByRole('button', { name: `Save the role of ${STAFF.email}` }).click();
		await page.getByText(`${STAFF.email} is now staff.`).waitFor();
		const r = await api('GET', `/api/v1/admin/users?email=${encodeURIComponent(STAFF.email)}`, { token: adminToken });
		assert(r.body.items.length === 1 && r.body.items[0].role === 'staff', `users: ${JSON.stringify(r.body.items)}`);
	});

	await check('a customer order (placed through the API) is confirmed, then shipped with a tracking number from the panel, its cash recorded; the customer gets the mail', async () => {
		const order = await placeOrder(adminToken);
		shipped = order;
		await nav(page, 'Orders');
		await page.getByLabel('Customer email').fill(CUSTOMER.email);
		await page.getByLabel('Placed from (UTC)').fill(new Date().toISOString().slice(0, 10));
		await page.getByRole('button', { name: 'Filter' }).click();
		await page.getByRole('link', { name: order.number, exact: true }).click();
		await heading(page, 'Order');
		await page.getByRole('button', { name: 'Confirm (processing)' }).click();
		await page.getByRole('button', { name: 'Move to processing' }).click();
		await page.getByText(`Order ${order.number} is now processing.`).waitFor();
		await page.getByRole('button', { name: 'Mark shipped' }).click();
		// without the tracking number the API names the field; the panel shows it there
		await page.getByLabel('Carrier').fill('Pathao');
		expectHttpErrors = true;
		await page.getByRole('button', { name: 'Move to shipped' }).click();
		await page.locator('#f-tracking_number-err').waitFor();
		expectHttpErrors = false;
		const tracking = `PT${run}`.toUpperCase();
		await page.getByLabel('Tracking number').fill(tracking);
		await page.getByRole('button', { name: 'Move to shipped' }).click();
		await page.getByText(`Order ${order.number} is now shipped.`).waitFor();
		await page.locator('.timeline').getByText(tracking).waitFor();
		// cash on delivery: the cash is recorded once the order is out
		await page.getByRole('button', { name: /^Record cash collected/ }).click();
		await page.getByText(/^Cash of .* recorded\.$/).waitFor();
		await shot(page, '13-order-shipped');
		const r = await api('GET', `/api/v1/admin/orders/${order.id}`, { token: adminToken });
		assert(r.body.status === 'shipped' && r.body.tracking_number === tracking && r.body.carrier === 'Pathao', `order: ${r.body.status} ${r.body.carrier} ${r.body.tracking_number}`);
		assert(r.body.payment_status === 'paid', `payment status after the cash was recorded: ${r.body.payment_status}`);
		await until(() => mailsWith(CUSTOMER.email, tracking).length > 0, 20000, `the shipping mail to ${CUSTOMER.email} (in ${MAIL_DIR})`);
	});

	await check('the dashboard\'s 30-day sales figure equals the sales report\'s for the same range (the paid order in it)', async () => {
		assert(shipped, 'no order was shipped and paid');
		await nav(page, 'Dashboard');
		await page.waitForFunction(() => ![...document.querySelectorAll('.card .figure')].some((f) => f.textContent === '…'));
		const shown = (await page.locator('#sales-30d .figure').textContent()).trim();
		const dash = await api('GET', '/api/v1/admin/dashboard', { token: adminToken });
		const d30 = dash.body.sales['30d'];
		const rep = await api('GET', `/api/v1/admin/reports/sales?from=${encodeURIComponent(d30.from)}&to=${encodeURIComponent(d30.to)}&interval=day`, { token: adminToken });
		assert(rep.status === 200, `sales report: ${rep.status} ${JSON.stringify(rep.body).slice(0, 200)}`);
		assert(rep.body.totals.orders >= 1 && rep.body.totals.net >= shipped.total, `the paid order is not in the report: ${JSON.stringify(rep.body.totals)} (order total ${shipped.total})`);
		assert(d30.net === rep.body.totals.net && d30.orders === rep.body.totals.orders, `dashboard ${d30.net}/${d30.orders} vs report ${rep.body.totals.net}/${rep.body.totals.orders}`);
		assert(shown === money(rep.body.totals.net, rep.body.currency), `the dashboard shows ${shown}, the report says ${rep.body.totals.net}`);
		// the card's link opens the reports screen on that range; it shows the same net
		await page.getByRole('link', { name: 'Net sales, 30 days: the sales report' }).click();
		await heading(page, 'Reports');
		await page.locator('#total-net .figure').waitFor();
		const onReport = (await page.locator('#total-net .figure').textContent()).trim();
		assert(onReport === shown, `the reports screen shows ${onReport}, the dashboard ${shown}`);
		assert((await page.locator('#rp-tz').inputValue()) === dash.body.tz, 'the report is not in the dashboard\'s time zone');
		await page.getByRole('figure', { name: /^Net sales per day/ }).locator('canvas').waitFor();
		salesReport = rep.body;
		await shot(page, '21-reports');
	});

	await check('the sales CSV download opens and its sums match the report JSON', async () => {
		assert(salesReport, 'no sales report to compare with');
		const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download Sales as CSV' }).click()]);
		assert(/\.csv$/.test(dl.suggestedFilename()), `file name ${dl.suggestedFilename()}`);
		const text = readFileSync(await dl.path(), 'utf8');
		const rows = parseCsv(text);
		const head = rows[0];
		const body = rows.slice(1).filter((r) => r.length === head.length);
		const total = body.find((r) => r.some((c) => c === 'total'));
		const buckets = body.filter((r) => r !== total);
		assert(buckets.length === salesReport.buckets.length, `${buckets.length} bucket rows, the report has ${salesReport.buckets.length}`);
		const cols = ['gross', 'discounts', 'shipping', 'tax', 'refunds', 'net', 'orders', 'units'].filter((k) => head.includes(k));
		assert(cols.includes('net') && cols.includes('gross') && cols.includes('orders'), `CSV header: ${head}`);
		for (const k of cols) {
			const i = head.indexOf(k);
			const sum = buckets.reduce((a, r) => a + csvNum(r[i]), 0);
			assert(sum === salesReport.totals[k], `CSV ${k}: rows sum to ${sum}, the report's total is ${salesReport.totals[k]}`);
			if (total) assert(csvNum(total[i]) === salesReport.totals[k], `CSV total row ${k}: ${total[i]} vs ${salesReport.totals[k]}`);
		}
		assert(salesReport.totals.net > 0, 'the report is 0 = 0');
		await page.getByText(`${dl.suggestedFilename()} downloaded.`).waitFor();
		// the orders report's CSV comes through the same way (counts only)
		const [dl2] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download Orders by status as CSV' }).click()]);
		assert(parseCsv(readFileSync(await dl2.path(), 'utf8')).length > 1, 'the orders CSV has no rows');
	});

	await check('a report range the API refuses shows its error next to the field (an unknown time zone)', async () => {
		await page.locator('#rp-tz').fill('Mars/Olympus_Mons');
		expectHttpErrors = true;
		await page.getByRole('button', { name: 'Show', exact: true }).click();
		await page.locator('#rp-tz-err').waitFor();
		expectHttpErrors = false;
		assert((await page.locator('#rp-tz').getAttribute('aria-invalid')) === 'true', 'the time zone input is not marked invalid');
		await shot(page, '21-reports-bad-tz');
		// a month at a time, in UTC: the month rows add up to the totals the screen shows
		await page.locator('#rp-tz').fill('UTC');
		await page.getByLabel('Interval').selectOption('month');
		await page.getByRole('button', { name: 'Show', exact: true }).click();
		const table = page.getByRole('region', { name: 'Sales per month' });
		await table.waitFor();
		const cells = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.children[1].textContent));
		const foot = await table.locator('tfoot td').first().textContent();
		const minor = (t) => Math.round(Number(t.replace(/[^0-9.-]/g, '')) * 100);
		assert(cells.length >= 1 && cells.length <= 2, `a 30-day range in ${cells.length} months`);
		assert(cells.reduce((a, c) => a + minor(c), 0) === minor(foot), `month rows ${cells.join(' + ')} != total ${foot}`);
		assert(minor(foot) === minor(await page.locator('#total-net .figure').textContent()), 'the table total is not the Net sales figure');
	});

	await check('returns: staff mark the order delivered, the customer asks for a return (API), staff approve it and receive it back to stock', async () => {
		assert(shipped, 'no shipped order');
		await page.goto(`${BASE}/admin/orders/${shipped.id}`);
		await heading(page, 'Order');
		await page.getByRole('button', { name: 'Mark delivered' }).click();
		await page.getByRole('button', { name: 'Move to delivered' }).click();
		await page.getByText(`Order ${shipped.number} is now delivered.`).waitFor();
		const line = shipped.lines[0];
		const stock = async () => (await api('GET', `/api/v1/admin/products/${line.product_id}`, { token: adminToken })).body.variants.find((v) => v.sku === line.sku).stock;
		const before = await stock();
		const ct = await token(CUSTOMER);
		const rr = await api('POST', `/api/v1/orders/${shipped.id}/returns`, { token: ct, json: { items: [{ sku: line.sku, quantity: 1 }], reason: 'browser test: too small' } });
		assert(rr.status === 201, `return request: ${rr.status} ${JSON.stringify(rr.body)}`);
		const ret = rr.body;
		await nav(page, 'Returns');
		await page.getByLabel('Customer email').fill(CUSTOMER.email);
		await page.getByRole('button', { name: 'Filter' }).click();
		const card = page.getByRole('article', { name: new RegExp(`^Return ${ret.id.slice(-8)}`) });
		await card.waitFor();
		await shot(page, '22-returns');
		await card.getByRole('button', { name: `Approve return ${ret.id.slice(-8)}` }).click();
		await card.getByLabel('Note (optional)').fill('browser test: approved');
		await card.getByRole('button', { name: 'Approve', exact: true }).click();
		await card.getByText(`Return ${ret.id.slice(-8)} is now approved.`).waitFor();
		await card.getByRole('button', { name: `Receive return ${ret.id.slice(-8)}` }).click();
		const restock = card.getByLabel(`Restock 1 × ${line.sku}`);
		assert(await restock.isChecked(), 'restock is not the default');
		await card.getByRole('button', { name: 'Record as received' }).click();
		await card.getByText(`Return ${ret.id.slice(-8)} is now received.`).waitFor();
		// the filter shows waiting returns: reload it and the received one is gone
		await page.getByRole('button', { name: 'Filter' }).click();
		await page.getByText('No returns match these filters.').waitFor();
		await shot(page, '23-return-received');
		const after = (await api('GET', `/api/v1/admin/orders/${shipped.id}/returns`, { token: adminToken })).body.items.find((x) => x.id === ret.id);
		assert(after.status === 'received' && after.received.length === 1 && after.received[0].restock === true && after.refund_amount > 0, `return: ${JSON.stringify(after)}`);
		assert((await stock()) === before + 1, `stock ${before} -> ${await stock()}, not one back`);
		// the other unit: asked for, then rejected; a reason is required and its error shows at the field
		const r2 = await api('POST', `/api/v1/orders/${shipped.id}/returns`, { token: ct, json: { items: [{ sku: line.sku, quantity: 1 }], reason: 'browser test: changed my mind' } });
		assert(r2.status === 201, `second return request: ${r2.status} ${JSON.stringify(r2.body)}`);
		await page.getByRole('button', { name: 'Filter' }).click();
		const card2 = page.getByRole('article', { name: new RegExp(`^Return ${r2.body.id.slice(-8)}`) });
		await card2.getByRole('button', { name: `Reject return ${r2.body.id.slice(-8)}` }).click();
		expectHttpErrors = true;
		await card2.getByRole('button', { name: 'Reject', exact: true }).click();
		await page.locator(`#ret-${r2.body.id}-reason-err`).waitFor();
		expectHttpErrors = false;
		await card2.getByLabel('Reason (mailed to the customer)').fill('browser test: worn');
		await card2.getByRole('button', { name: 'Reject', exact: true }).click();
		await card2.getByText(`Return ${r2.body.id.slice(-8)} is now rejected.`).waitFor();
		const rej = (await api('GET', `/api/v1/admin/orders/${shipped.id}/returns`, { token: adminToken })).body.items.find((x) => x.id === r2.body.id);
		assert(rej.status === 'rejected' && rej.reject_reason === 'browser test: worn', `rejected return: ${JSON.stringify(rej)}`);
		// the order screen lists both returns
		await page.goto(`${BASE}/admin/orders/${shipped.id}`);
		const sec = page.getByRole('region', { name: 'Returns' });
		await sec.getByRole('article', { name: new RegExp(`^Return ${ret.id.slice(-8)}`) }).waitFor();
		await sec.getByRole('article', { name: new RegExp(`^Return ${r2.body.id.slice(-8)}`) }).waitFor();
	});

	await check('a card order paid through the gateway (stand-in) is refunded in part from the panel: amount and reason, the refund in the API', async () => {
		const order = await placeOrder(adminToken, 'sslcommerz');
		const ct = await token(CUSTOMER);
		const sess = await api('POST', '/api/v1/payments/sslcommerz/session', { token: ct, json: { order_id: order.id } });
		assert(sess.status === 201 && sess.body.tran_id, `session: ${sess.status} ${JSON.stringify(sess.body)}`);
		// the stand-in plays the customer paying on the hosted page and sends the signed IPN
		const act = await fetch(`${env('STACK_SSLCOMMERZ_BASE')}/_standin/act`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ tran_id: sess.body.tran_id, action: 'pay' }) });
		assert(act.status === 200, `stand-in pay: ${act.status} ${await act.text()}`);
		let paid = null;
		for (let i = 0; i < 100 && !paid; i++) {
			const o = await api('GET', `/api/v1/admin/orders/${order.id}`, { token: adminToken });
			if (o.body.payment_status === 'paid') paid = o.body;
			else await new Promise((ok) => setTimeout(ok, 100));
		}
		assert(paid, `the order was not paid after the IPN`);
		await page.goto(`${BASE}/admin/orders/${order.id}`);
		await heading(page, 'Order');
		await page.getByRole('button', { name: 'Refund…' }).click();
		await page.getByLabel(`Amount (${paid.currency})`).fill('10.00');
		await page.getByLabel('Reason').fill('browser test: partial refund');
		await page.getByRole('button', { name: 'Refund', exact: true }).click();
		await page.getByText(new RegExp(`^Refund of 10\\.00 ${paid.currency} `)).waitFor();
		await shot(page, '24-order-refund');
		const rf = await api('GET', `/api/v1/admin/orders/${order.id}/refunds`, { token: adminToken });
		assert(rf.status === 200 && rf.body.items.length === 1 && rf.body.items[0].amount === 1000, `refunds: ${rf.status} ${JSON.stringify(rf.body)}`);
	});

	await check('readable on a phone: no sideways scrolling on the dashboard, reports, product, order, returns and inventory screens', async () => {
		await page.setViewportSize({ width: 390, height: 844 });
		await nav(page, 'Dashboard');
		await page.getByRole('figure', { name: 'Orders by status, last 30 days' }).locator('canvas').waitFor();
		await noOverflow(page);
		await shot(page, '15-phone-dashboard');
		await nav(page, 'Reports');
		await page.locator('#total-net .figure').waitFor();
		await noOverflow(page);
		await shot(page, '15-phone-reports');
		await page.goto(`${BASE}/admin/products/${product.id}`);
		await heading(page, 'Edit product');
		await noOverflow(page);
		await shot(page, '15-phone-product');
		await nav(page, 'Orders');
		await page.locator('table tbody tr').first().waitFor();
		await page.locator('table tbody tr a').first().click();
		await heading(page, 'Order');
		await noOverflow(page);
		await shot(page, '16-phone-order');
		await nav(page, 'Returns');
		await noOverflow(page);
		await nav(page, 'Inventory');
		await noOverflow(page);
		await page.setViewportSize({ width: 1280, height: 900 });
	});

	await check('a staff account sees no revenue (dashboard, reports) and no users or jobs screen; the API refuses both', async () => {
		const sctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
		sctx.setDefaultTimeout(15000);
		const sp = await sctx.newPage();
		watch(sp, 'staff');
		try {
			await signIn(sp, STAFF);
			await heading(sp, 'Dashboard');
			const links = await sp.getByRole('navigation', { name: 'Screens' }).getByRole('link').allTextContents();
			assert(['Products', 'Orders', 'Returns', 'Reports', 'Inventory', 'Security'].every((x) => links.includes(x)), `staff nav: ${links}`);
			assert(!links.includes('Users') && !links.includes('Jobs') && !links.includes('Payments'), `staff nav shows admin screens: ${links}`);
			await sp.waitForFunction(() => ![...document.querySelectorAll('.card .figure')].some((f) => f.textContent === '…'));
			assert((await sp.getByText('dead jobs').count()) === 0, 'the staff dashboard shows dead jobs');
			assert((await sp.locator('.card .figure', { hasText: '—' }).count()) === 0, 'a staff dashboard figure could not be had');
			await sp.getByRole('figure', { name: 'Orders by status, last 30 days' }).locator('canvas').waitFor();
			const revenue = /net sales|gross|revenue|BDT/i;
			assert(!revenue.test(await sp.locator('main').textContent()), `the staff dashboard shows money: ${(await sp.locator('main').textContent()).match(revenue)}`);
			await shot(sp, '17-staff-dashboard');
			await nav(sp, 'Reports');
			await sp.getByRole('heading', { name: 'Stock', level: 2 }).waitFor();
			await sp.getByRole('heading', { name: 'Orders by status', level: 2 }).waitFor();
			const text = await sp.locator('main').textContent();
			assert(!revenue.test(text) && !/Top customers|Customers/.test(text), `the staff reports screen shows revenue or customers: ${text.match(revenue) || 'Customers'}`);
			await shot(sp, '17-staff-reports');
			await sp.goto(`${BASE}/admin/users`);
			await heading(sp, 'Not allowed');
			await shot(sp, '18-staff-users-refused');
			const st = await token(STAFF);
			const r = await api('GET', '/api/v1/admin/users', { token: st });
			assert(r.status === 403, `the API gave staff ${r.status} for /admin/users`);
			for (const path of ['/api/v1/admin/reports/sales', '/api/v1/admin/reports/customers']) {
				const x = await api('GET', path, { token: st });
				assert(x.status === 403, `the API gave staff ${x.status} for ${path}`);
			}
			const sd = await api('GET', '/api/v1/admin/dashboard', { token: st });
			assert(sd.status === 200 && sd.body.role === 'staff' && !('sales' in sd.body), `staff dashboard: ${JSON.stringify(sd.body)}`);
		} finally {
			await sctx.close();
		}
	});

	await check('staff turns on two-factor sign-in on the Security screen, then signs in with password and an app code', async () => {
		const sctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
		sctx.setDefaultTimeout(15000);
		const sp = await sctx.newPage();
		watch(sp, 'staff-mfa');
		try {
			await signIn(sp, STAFF);
			await nav(sp, 'Security');
			await sp.getByRole('button', { name: 'Set up an authenticator app' }).click();
			const secret = await sp.locator('#totp-secret').getAttribute('data-secret');
			assert(secret && /^[A-Z2-7]+=*$/.test(secret), `secret: ${secret}`);
			await shot(sp, '19-security-enrol');
			const step = Math.floor(Date.now() / 30000);
			await sp.getByLabel('Code from the app').fill(totp(secret, step));
			await sp.getByRole('button', { name: 'Turn on' }).click();
			await sp.getByRole('list', { name: 'Recovery codes' }).waitFor();
			assert((await sp.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count()) === 10, 'not 10 recovery codes');
			await sp.getByRole('button', { name: 'Sign in again' }).click();
			await sp.getByRole('button', { name: 'Sign in' }).waitFor();
			await sp.getByLabel('Email').fill(STAFF.email);
			await sp.getByLabel('Password').fill(STAFF.password);
			expectHttpErrors = true; // the password alone: 401 naming totp
			await sp.getByRole('button', { name: 'Sign in' }).click();
			await sp.getByLabel('Authenticator code').waitFor();
			expectHttpErrors = false;
			await shot(sp, '20-sign-in-totp');
			// the next step's code: the confirming one is spent (no replay)
			await sp.getByLabel('Authenticator code').fill(totp(secret, step + 1));
			await sp.keyboard.press('Enter');
			// signed in where the session ended
			await sp.getByRole('navigation', { name: 'Screens' }).waitFor();
			await heading(sp, 'Security');
		} finally {
			expectHttpErrors = false;
			await sctx.close();
		}
	});

	await check('sign out ends the session (a reload shows the sign-in screen)', async () => {
		await page.getByRole('button', { name: 'Sign out' }).click();
		await page.getByRole('button', { name: 'Sign in' }).waitFor();
		await page.reload();
		await page.getByRole('button', { name: 'Sign in' }).waitFor();
	});

	await ctx.close();
} finally {
	await browser.close();
}
}
try {
	await main();
} catch (e) {
	// a failure outside a check (launch, setup) still ends in the count
	failed++;
	console.log(`not ok - the run stopped: ${String((e && e.stack) || e).split('\n').slice(0, 6).join(' | ')}`);
}

const reports = reportsLogged() - reportBaseline;
await check('no console errors, no page errors and no CSP violation reports during the run', async () => {
	assert(LOGS && existsSync(LOGS), `no nginx logs at ${LOGS}`);
	assert(problems.length === 0, problems.slice(0, 5).join(' || '));
	assert(reports === 0, `${reports} POSTs to /api/v1/csp-reports in the nginx access log since the self-test`);
});

console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
