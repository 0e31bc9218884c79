// bench/orders/reads_setup.js - the data of bench/orders/reads.sh on one
// stack: a customer (planted in the database, an HS256 access token minted
// as src/auth/auth.h specifies, as bench/orders/load.js does) with an
// address, one placed order (cash on delivery, 3 lines of demo products,
// the FLAT200 coupon) and then a cart of LINES lines with the coupon.
// Needs the demo catalog and coupons (emporium-admin seed-demo,
// seed-demo-coupons).
//
//   node reads_setup.js LINES
// Environment: STACK_BASE, STACK_MONGODB_URI, STACK_JWT_SECRET, BENCH_DB.
// Loopback only (bench/orders/client.js). Prints one line: TOKEN ORDER_ID
'use strict';
const path = require('path');
const crypto = require('crypto');
const { MongoClient, ObjectId } = require(path.join(__dirname, '../../tests/mongo-standin/node_modules/mongodb'));
const { env, client, must, plantUsers } = require('./client');

const lines = parseInt(process.argv[2] || '5', 10);
if (!(lines >= 1 && lines <= 50)) { console.error('usage: node reads_setup.js LINES (1..50)'); process.exit(2); }
const { request, agent } = client(4);

async function main() {
  const client = new MongoClient(env('STACK_MONGODB_URI'), { directConnection: true });
  await client.connect();
  const db = client.db(env('BENCH_DB'));
  const [tok] = await plantUsers(db, ObjectId, 'customer', 1, 3600);
  const addr = must(await request('POST', '/api/v1/me/addresses', tok, {
    name: 'Rahim Uddin', line1: '12 Road 5', city: 'Dhaka', postal_code: '1207', country: 'BD', phone: '+8801711000000',
  }), 'address');
  const list = must(await request('GET', '/api/v1/products?limit=60', null, undefined, { Cookie: 'bench=1' }), 'products');
  const skus = [];
  for (const p of list.items) for (const v of p.variants) if (v.in_stock) skus.push(v.sku);
  let at = 0;
  const fill = async (n) => {
    for (let added = 0; added < n && at < skus.length; at++) {
      const r = await request('POST', '/api/v1/cart/items', tok, { sku: skus[at], quantity: 1 });
      if (r.status === 200 || r.status === 201) added++;
    }
    must(await request('PUT', '/api/v1/cart/coupon', tok, { code: 'FLAT200' }), 'coupon');
  };
  await fill(3);
  const order = must(await request('POST', '/api/v1/orders', tok,
    { shipping_address_id: addr.id, payment_method: 'cod', note: 'bench: ring twice' },
    { 'Idempotency-Key': crypto.randomBytes(16).toString('hex') }), 'order');
  await fill(lines);
  const cart = must(await request('GET', '/api/v1/cart', tok), 'cart');
  if (cart.items.length !== lines) throw new Error(`the cart has ${cart.items.length} lines, not ${lines}`);
  console.log(`${tok} ${order.id}`);
  await client.close();
  agent.destroy();
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
