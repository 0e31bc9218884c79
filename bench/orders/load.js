// bench/orders/load.js - the checkout load of bench/orders/run.sh. A checkout
// empties its cart, so every request needs a customer with a fresh cart:
// the tool plants N customers (users in the database, HS256 access tokens
// minted as src/auth/auth.h specifies, an address and a 3-line cart through
// the API), then fires their N checkouts (cash on delivery) through nginx
// with C in flight, and reads the CPU of the FastCGI pool and the database
// from /proc around the firing only.
//
//   node load.js MODE N C
//     MODE spread: each order on 3 SKUs of its own
//          hot:    each order on the one hot SKU + 2 SKUs of its own
// Environment: STACK_BASE, STACK_MONGODB_URI, STACK_JWT_SECRET, STACK_DIR
// (pid files), BENCH_DB (database name). Loopback only; bounded by N and by
// a 120 s deadline. Prints one line:
//   MODE rps p50_ms p99_ms placed failed db_us pool_us (CPU us per checkout)
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { MongoClient, ObjectId } = require(path.join(__dirname, '../../tests/mongo-standin/node_modules/mongodb'));
const { env, client, must, plantUsers: plant, cpuTicks } = require('./client');

const [mode, nStr, cStr] = process.argv.slice(2);
const N = parseInt(nStr, 10), C = parseInt(cStr, 10);
if (!['spread', 'hot'].includes(mode) || !(N > 0 && N <= 5000) || !(C > 0 && C <= 256)) {
  console.error('usage: node load.js spread|hot N C   (N <= 5000, C <= 256)');
  process.exit(2);
}
const deadline = Date.now() + 120000;
const { request, agent } = client(C);
const plantUsers = (db, role, n) => plant(db, ObjectId, role, n);

// runs fn(i) for i < n with c in flight
async function pool(n, c, fn) {
  let next = 0;
  const lanes = [];
  for (let k = 0; k < Math.min(c, n); k++) {
    lanes.push((async () => { for (let i = next++; i < n; i = next++) await fn(i); })());
  }
  await Promise.all(lanes);
}

async function main() {
  const client = new MongoClient(env('STACK_MONGODB_URI'), { directConnection: true });
  await client.connect();
  const db = client.db(env('BENCH_DB'));
  const [staff] = await plantUsers(db, 'staff', 1);
  const tag = `${mode}${Date.now().toString(36)}`;
  // each order's own SKUs: products of 3 variants (sizes), one per order
  const own = [];
  await pool(N, 4, async (i) => {
    const skus = [0, 1, 2].map((k) => `B${tag}-${i}-${k}`.toUpperCase());
    must(await request('POST', '/api/v1/admin/products', staff, {
      title: `Bench ${tag} ${i}`, slug: `bench-${tag}-${i}`, description: 'checkout benchmark', brand: 'Bench',
      category: null, status: 'active', options: ['size', 'color'],
      variants: skus.map((sku, k) => ({ sku, options: { size: `s${k}` }, price: 10000 + k * 100, stock: 100 })),
    }), 'product');
    own[i] = skus;
  });
  const hot = `H${tag}`.toUpperCase();
  if (mode === 'hot') {
    must(await request('POST', '/api/v1/admin/products', staff, {
      title: `Hot ${tag}`, slug: `hot-${tag}`, description: 'the hot SKU', brand: 'Bench', category: null,
      status: 'active', options: ['size', 'color'],
      variants: [{ sku: hot, options: { size: 'M' }, price: 50000, stock: 1000000 }],
    }), 'hot product');
  }
  const tokens = await plantUsers(db, 'customer', N);
  const addresses = [];
  await pool(N, 8, async (i) => {
    const a = must(await request('POST', '/api/v1/me/addresses', tokens[i], {
      name: 'Rahim Uddin', line1: '12 Road 5', city: 'Dhaka', postal_code: '1207', country: 'BD', phone: '+8801711000000',
    }), 'address');
    addresses[i] = a.id;
    const lines = mode === 'hot' ? [hot, own[i][0], own[i][1]] : own[i];
    for (const sku of lines) must(await request('POST', '/api/v1/cart/items', tokens[i], { sku, quantity: 1 }), 'cart add');
  });
  const dir = env('STACK_DIR');
  const hz = Number(process.env.BENCH_HZ || 100); // USER_HZ (getconf CLK_TCK)
  const lat = [];
  let placed = 0, failed = 0, firstFail = '';
  const c0 = [cpuTicks(`${dir}/run/mongo.pid`), cpuTicks(`${dir}/run/fcgi.pid`)];
  const t0 = process.hrtime.bigint();
  await pool(N, C, async (i) => {
    if (Date.now() > deadline) { failed++; return; }
    const s = process.hrtime.bigint();
    const r = await request('POST', '/api/v1/orders', tokens[i],
      { shipping_address_id: addresses[i], payment_method: 'cod' },
      { 'Idempotency-Key': crypto.randomBytes(16).toString('hex') });
    lat.push(Number(process.hrtime.bigint() - s) / 1e6);
    if (r.status === 201) placed++; else { failed++; if (!firstFail) firstFail = `${r.status} ${r.body.slice(0, 200)}`; }
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c1 = [cpuTicks(`${dir}/run/mongo.pid`), cpuTicks(`${dir}/run/fcgi.pid`)];
  if (firstFail) console.error(`${mode}: first failure: ${firstFail}`);
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  const us = (k) => (placed ? ((c1[k] - c0[k]) * 1e6) / hz / placed : 0).toFixed(0);
  console.log(`${mode} ${(placed / secs).toFixed(1)} ${pct(0.5).toFixed(1)} ${pct(0.99).toFixed(1)} ${placed} ${failed} ${us(0)} ${us(1)}`);
  await client.close();
  agent.destroy();
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
