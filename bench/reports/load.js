// bench/reports/load.js - the data and the requests of bench/reports/run.sh.
//
//   node load.js seed N        plants N orders over the last 365 days (90 %
//                              paid: a payment 5 min after placing; 1 in 20
//                              paid ones refunded a day later), 5,000
//                              customers, 200 products with 3 variants each
//   node load.js idle          waits (at most 2 min) until the stand-in is idle
//   node load.js measure NAME PATH K
//                              K sequential GETs of PATH as an admin (after one
//                              not counted), and prints one line:
//   NAME p50_ms max_ms db_us pool_us docs_examined keys_examined plans bytes scans
//                              (CPU us per request from /proc of the stand-in
//                              and of the FastCGI pool; docs/keys examined per
//                              request from the stand-in's plan log - the
//                              leading $match of each pipeline and each count)
//
// Environment: STACK_BASE, STACK_MONGODB_URI, STACK_JWT_SECRET, STACK_DIR,
// BENCH_DB, BENCH_HZ. Loopback only.
'use strict';
const fs = require('fs');
const path = require('path');
const { MongoClient, ObjectId, Long } = require(path.join(__dirname, '../../tests/mongo-standin/node_modules/mongodb'));

const { env, client: httpsClient, token, cpuTicks } = require('../orders/client');
// one connection, as the report is read by one admin; a report may take long
const { request } = httpsClient(1, 120000);
const get = (p, tok) => request('GET', p, tok);

// a small deterministic generator, so every run seeds the same shop
// (mulberry32)
let seed = 42;
const rnd = () => {
  seed = (seed + 0x6D2B79F5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const L = (n) => Long.fromNumber(n);

async function seedShop(db, n) {
  const now = Date.now(), DAY = 86400000;
  const users = [], products = [];
  for (let i = 0; i < 5000; i++) {
    users.push({ _id: new ObjectId(), email: `bench-r-${i}@test.invalid`, name: `Bench ${i}`, role: 'customer',
      email_verified: true, disabled: false, created_at: new Date(now - Math.floor(rnd() * 400) * DAY) });
  }
  for (let i = 0; i < 200; i++) {
    const variants = [0, 1, 2].map((v) => {
      const stock = Math.floor(rnd() * 60);
      return { sku: `BR-${i}-${v}`, options: { size: ['S', 'M', 'L'][v] }, price: L(500 + 100 * (i % 20)), stock: L(stock),
        low_stock_threshold: L(5), low_stock: stock < 5, low_stock_alerts: L(0) };
    });
    products.push({ _id: new ObjectId(), slug: `bench-r-${i}`, title: `Bench product ${i}`, status: 'active', currency: 'BDT',
      category_id: null, variants, version: L(1), deleted_at: null, created_at: new Date(now - 400 * DAY) });
  }
  await db.collection('users').insertMany(users);
  await db.collection('products').insertMany(products);
  const statuses = ['processing', 'shipped', 'delivered', 'delivered', 'delivered'];
  for (let start = 0; start < n; start += 2000) {
    const orders = [], payments = [], refunds = [];
    for (let i = start; i < Math.min(n, start + 2000); i++) {
      const created = now - Math.floor(rnd() * 365 * DAY);
      const nl = 1 + Math.floor(rnd() * 3), lines = [];
      let subtotal = 0, units = 0;
      for (let k = 0; k < nl; k++) {
        const p = products[Math.floor(rnd() * products.length)], v = p.variants[Math.floor(rnd() * 3)];
        const q = 1 + Math.floor(rnd() * 3), unit = v.price.toNumber();
        lines.push({ sku: v.sku, product_id: p._id, title: p.title, options: v.options, quantity: L(q), unit_price: L(unit),
          line_total: L(q * unit), discount: L(0), tax: L(0) });
        subtotal += q * unit; units += q;
      }
      const paid = rnd() < 0.9, method = rnd() < 0.5 ? 'cod' : 'sslcommerz';
      const _id = new ObjectId(), shipping = 60;
      const status = paid ? statuses[Math.floor(rnd() * statuses.length)] : (rnd() < 0.5 ? 'pending' : 'cancelled');
      orders.push({ _id, number: `EM-2026-${String(100000000 + i)}`, user_id: users[Math.floor(rnd() * users.length)]._id,
        email: 'bench@test.invalid', name: 'Bench', status, payment_method: method, payment_status: paid ? 'paid' : 'unpaid',
        currency: 'BDT', lines, subtotal: L(subtotal), discount: L(0), shipping: L(shipping), tax: L(0), total: L(subtotal + shipping),
        coupon: null, events: [{ from: null, to: 'pending', by: { id: null, role: 'customer' }, at: new Date(created) }],
        version: L(1), created_at: new Date(created), updated_at: new Date(created) });
      if (paid) {
        const pid = new ObjectId();
        payments.push({ _id: pid, order_id: _id, tran_id: `bench-${i}`, val_id: `bench-${i}`, method, amount: L(subtotal + shipping),
          currency: 'BDT', refund_reserved: L(0), refunded: L(0), applied: 'order', created_at: new Date(created + 300000) });
        if (rnd() < 0.05) {
          refunds.push({ _id: new ObjectId(), order_id: _id, payment_id: pid, amount: L(Math.floor(subtotal / 2) || 1), currency: 'BDT',
            reason: 'bench', status: 'refunded', method: method === 'cod' ? 'manual' : 'gateway', created_at: new Date(created + DAY) });
        }
      }
    }
    await db.collection('orders').insertMany(orders);
    if (payments.length) await db.collection('payments').insertMany(payments);
    if (refunds.length) await db.collection('refunds').insertMany(refunds);
  }
}

async function main() {
  const [mode, a, b, c] = process.argv.slice(2);
  const client = new MongoClient(env('STACK_MONGODB_URI'), { serverSelectionTimeoutMS: 10000 });
  await client.connect();
  const db = client.db(env('BENCH_DB'));
  try {
    if (mode === 'seed') {
      const n = parseInt(a, 10);
      if (!(n > 0 && n <= 1000000)) throw new Error('seed N: 1..1000000');
      await seedShop(db, n);
      const counts = await Promise.all(['orders', 'payments', 'refunds'].map((k) => db.collection(k).countDocuments()));
      console.log(`seeded orders ${counts[0]} payments ${counts[1]} refunds ${counts[2]}`);
      return;
    }
    if (mode === 'idle') {
      // after the seeding the stand-in saves its data for a while: measuring
      // then would charge that to the first request type measured
      const dir = env('STACK_DIR'), hz = Number(process.env.BENCH_HZ || 100);
      const until = Date.now() + 120000;
      for (;;) {
        const t0 = cpuTicks(`${dir}/run/mongo.pid`);
        await new Promise((r) => setTimeout(r, 1000));
        const busy = (cpuTicks(`${dir}/run/mongo.pid`) - t0) / hz;
        if (busy < 0.05 || Date.now() > until) { console.log(`stand-in idle (${Math.round(busy * 100)} % of a core)`); return; }
      }
    }
    if (mode !== 'measure') throw new Error('usage: load.js seed N | idle | measure NAME PATH K');
    const name = a, p = b, k = parseInt(c, 10);
    if (!(k > 0 && k <= 100)) throw new Error('K: 1..100');
    const admin = await db.collection('users').findOne({ role: 'admin' });
    const id = admin ? admin._id : new ObjectId();
    if (!admin) await db.collection('users').insertOne({ _id: id, email: 'bench-admin@test.invalid', role: 'admin', email_verified: true, disabled: false, created_at: new Date() });
    const tok = token(id.toHexString(), 'admin');
    const adminDb = client.db('admin');
    const first = await get(p, tok);
    if (first.status !== 200) throw new Error(`${p}: ${first.status} ${first.body.slice(0, 300)}`);
    const dir = env('STACK_DIR'), hz = Number(process.env.BENCH_HZ || 100);
    await adminDb.command({ standinQueryPlans: 1, record: true, clear: true });
    const c0 = [cpuTicks(`${dir}/run/mongo.pid`), cpuTicks(`${dir}/run/fcgi.pid`)];
    const lat = [];
    let bytes = 0;
    for (let i = 0; i < k; i++) {
      const s = process.hrtime.bigint();
      const r = await get(p, tok);
      lat.push(Number(process.hrtime.bigint() - s) / 1e6);
      if (r.status !== 200) throw new Error(`${p}: ${r.status} ${r.body.slice(0, 300)}`);
      bytes = r.body.length;
    }
    const c1 = [cpuTicks(`${dir}/run/mongo.pid`), cpuTicks(`${dir}/run/fcgi.pid`)];
    // only the report's own pipelines and counts (every count is an aggregate):
    // the sign-in's user lookup and emporium-worker's sweeps are finds and updates
    const plans = (await adminDb.command({ standinQueryPlans: 1, record: false })).plans.filter((x) => x.op === 'aggregate');
    const docs = plans.reduce((s, x) => s + (x.docsExamined || 0), 0) / k;
    const keys = plans.reduce((s, x) => s + (x.keysExamined || 0), 0) / k;
    const scans = plans.filter((x) => x.stage === 'COLLSCAN').map((x) => x.ns.split('.').pop());
    lat.sort((x, y) => x - y);
    const us = (t) => Math.round(((t * 1e6) / hz) / k);
    console.log([name, lat[Math.floor(k / 2)].toFixed(1), lat[k - 1].toFixed(1), us(c1[0] - c0[0]), us(c1[1] - c0[1]),
      Math.round(docs), Math.round(keys), Math.round(plans.length / k), bytes, [...new Set(scans)].join('+') || '-'].join(' '));
  } finally {
    await client.close();
  }
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
