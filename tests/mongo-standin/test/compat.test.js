'use strict';
// Compatibility suite (official Node driver). Each case states what real
// MongoDB does; the stand-in must do the same. Runs against the URI in
// MONGODB_URI (a real replica set) or STANDIN_RS_URI (set by run.sh).
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const os = require('os');
const fs = require('fs');
const path = require('path');
const { Long, Double, Int32, Decimal128, ObjectId, Binary, UUID } = require('mongodb');
const { startStandin, connect, REAL } = require('./helpers');

const URI = process.env.MONGODB_URI || process.env.STANDIN_RS_URI;
const RAW = { promoteLongs: false, promoteValues: false };
let client, db;
const skipReal = REAL ? 'stand-in specific' : false;

before(async () => {
  if (!URI) throw new Error('set STANDIN_RS_URI or MONGODB_URI (use test/run.sh)');
  client = await connect(URI);
  db = client.db('standin_node_compat');
  await db.dropDatabase();
});
after(async () => { if (client) await client.close(); });

async function fresh(name) {
  await db.collection(name).drop().catch(() => {});
  return db.collection(name);
}

async function expectCode(p, code, label) {
  try { await p; } catch (e) {
    assert.equal(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    if (label) assert.ok(e.hasErrorLabel ? e.hasErrorLabel(label) : (e.errorLabels || []).includes(label), `missing label ${label}`);
    return e;
  }
  assert.fail(`expected error ${code}`);
}

describe('connection', () => {
  // MongoDB: hello on a replica set primary says isWritablePrimary and setName.
  test('hello advertises a one-node replica set', async () => {
    const h = await db.admin().command({ hello: 1 });
    assert.equal(h.isWritablePrimary, true);
    assert.equal(h.secondary, false);
    assert.ok(h.setName);
    assert.equal(h.maxWireVersion >= 17, true);
    assert.equal(h.logicalSessionTimeoutMinutes, 30);
    assert.deepEqual(h.hosts.length, 1);
  });
  test('directConnection=true works too', { skip: skipReal }, async () => {
    const u = new URL(URI); // mongodb://host:port/?replicaSet=..
    const c = await connect(`mongodb://${u.host}/?directConnection=true`);
    assert.equal((await c.db('admin').command({ ping: 1 })).ok, 1);
    await c.close();
  });
  // MongoDB: an unknown command fails with CommandNotFound (59).
  test('unknown command -> 59', async () => {
    const e = await expectCode(db.command({ noSuchCommandHere: 1 }), 59);
    assert.match(e.message, /no such command: 'noSuchCommandHere'/);
  });
  test('buildInfo says stand-in', { skip: skipReal }, async () => {
    const b = await db.admin().command({ buildInfo: 1 });
    assert.equal(b.version, '6.0.0');
    assert.equal(b.standin, true);
  });
});

describe('types', () => {
  // MongoDB stores and returns every BSON type as written.
  test('int32/int64/double/decimal/date/objectid/binary round-trip', async () => {
    const c = await fresh('types');
    const oid = new ObjectId();
    const doc = {
      _id: 1, i: new Int32(5), l: Long.fromString('9007199254740993'), small: Long.fromNumber(3), d: new Double(1), d2: new Double(2.5),
      dec: Decimal128.fromString('19.99'), dt: new Date(1700000000123), oid, bin: new Binary(Buffer.from([1, 2, 3]), 0),
      nested: { a: [new Int32(1), Long.fromNumber(2), new Double(3)], s: 'x' },
    };
    await c.insertOne(doc);
    const r = await c.findOne({ _id: 1 }, RAW);
    assert.ok(r.i instanceof Int32 && r.i.value === 5);
    assert.ok(r.l instanceof Long && r.l.toString() === '9007199254740993');
    assert.ok(r.small instanceof Long && r.small.toNumber() === 3);
    assert.ok(r.d instanceof Double && r.d.value === 1);
    assert.ok(r.d2 instanceof Double);
    assert.equal(r.dec.toString(), '19.99');
    assert.equal(r.dt.getTime(), 1700000000123);
    assert.equal(r.oid.toHexString(), oid.toHexString());
    assert.deepEqual([...r.bin.buffer], [1, 2, 3]);
    assert.ok(r.nested.a[0] instanceof Int32 && r.nested.a[1] instanceof Long && r.nested.a[2] instanceof Double);
  });
  // MongoDB: $inc int32+int32 overflowing -> int64; with a double -> double;
  // int64 stays int64; $mul likewise.
  test('$inc / $mul type widening', async () => {
    const c = await fresh('widen');
    await c.insertOne({ _id: 1, a: new Int32(2147483647), b: Long.fromNumber(10), c: new Int32(1), d: new Int32(3), e: new Double(2) });
    await c.updateOne({ _id: 1 }, { $inc: { a: new Int32(1), b: new Int32(5), c: new Double(0.5), x: Long.fromNumber(1) }, $mul: { d: new Int32(2), e: new Int32(3) } });
    const r = await c.findOne({ _id: 1 }, RAW);
    assert.ok(r.a instanceof Long && r.a.toNumber() === 2147483648, 'int32 overflow -> int64');
    assert.ok(r.b instanceof Long && r.b.toNumber() === 15, 'int64 + int32 -> int64');
    assert.ok(r.c instanceof Double && r.c.value === 1.5, 'int32 + double -> double');
    assert.ok(r.x instanceof Long, 'missing field takes the increment type');
    assert.ok(typeof r.d === 'object' && r.d instanceof Int32 && r.d.value === 6, 'int32 * int32 -> int32');
    assert.ok(r.e instanceof Double && r.e.value === 6, 'double * int32 -> double');
  });
  // MongoDB compares numbers across types: {n: 5} matches int32, int64 and double 5.
  test('numeric equality across types', async () => {
    const c = await fresh('numeq');
    await c.insertMany([{ n: new Int32(5) }, { n: Long.fromNumber(5) }, { n: new Double(5) }, { n: 6 }]);
    assert.equal(await c.countDocuments({ n: 5 }), 3);
    assert.equal(await c.countDocuments({ n: { $gt: Long.fromNumber(4) } }), 4);
  });
});

describe('indexes', () => {
  // MongoDB: duplicate key -> 11000 with keyPattern/keyValue, on insert,
  // update, upsert and findAndModify.
  test('unique index violations', async () => {
    const c = await fresh('uniq');
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertOne({ _id: 1, email: 'a@x' });
    await c.insertOne({ _id: 2, email: 'b@x' });
    let e = await expectCode(c.insertOne({ email: 'a@x' }), 11000);
    assert.deepEqual(e.keyValue, { email: 'a@x' });
    assert.match(e.message, /E11000 duplicate key error collection: standin_node_compat.uniq index: email_1 dup key: \{ email: "a@x" \}/);
    await expectCode(c.updateOne({ _id: 2 }, { $set: { email: 'a@x' } }), 11000);
    await expectCode(c.updateOne({ _id: 3 }, { $set: { email: 'a@x' } }, { upsert: true }), 11000);
    await expectCode(c.findOneAndUpdate({ _id: 2 }, { $set: { email: 'a@x' } }), 11000);
    await expectCode(c.insertOne({ _id: 1 }), 11000);
    assert.equal(await c.countDocuments({}), 2);
  });
  test('compound unique, partial and sparse', async () => {
    const c = await fresh('uniq2');
    await c.createIndex({ a: 1, b: 1 }, { unique: true });
    await c.insertMany([{ a: 1, b: 1 }, { a: 1, b: 2 }]);
    const e = await expectCode(c.insertOne({ a: 1, b: 1 }), 11000);
    assert.deepEqual(e.keyValue, { a: 1, b: 1 });
    // MongoDB indexes a missing field as null: two docs without a and b clash.
    await c.insertOne({ z: 1 });
    await expectCode(c.insertOne({ z: 2 }), 11000);
    const p = await fresh('uniq_partial');
    await p.createIndex({ sku: 1 }, { unique: true, partialFilterExpression: { active: true } });
    await p.insertMany([{ sku: 'X', active: false }, { sku: 'X', active: false }, { sku: 'X', active: true }]);
    await expectCode(p.insertOne({ sku: 'X', active: true }), 11000);
    const sp = await fresh('uniq_sparse');
    await sp.createIndex({ code: 1 }, { unique: true, sparse: true });
    await sp.insertMany([{ x: 1 }, { x: 2 }, { code: 'c' }]); // no `code`: sparse allows many
    await expectCode(sp.insertOne({ code: 'c' }), 11000);
  });
  // MongoDB: the same spec twice is a no-op; same name, different key -> 86;
  // same key different name -> 85.
  test('createIndexes idempotence and conflicts', async () => {
    const c = await fresh('ixc');
    await c.createIndex({ a: 1 }, { name: 'ia' });
    await c.createIndex({ a: 1 }, { name: 'ia' });
    await expectCode(c.createIndex({ b: 1 }, { name: 'ia' }), 86);
    await expectCode(c.createIndex({ a: 1 }, { name: 'other' }), 85);
    const names = (await c.listIndexes().toArray()).map((i) => i.name);
    assert.deepEqual(names, ['_id_', 'ia']);
    await c.dropIndex('ia');
    await expectCode(c.dropIndex('ia'), 27);
  });
  // MongoDB: a unique index cannot be built over existing duplicates.
  test('unique index build fails on existing duplicates', async () => {
    const c = await fresh('ixdup');
    await c.insertMany([{ a: 1 }, { a: 1 }]);
    await expectCode(c.createIndex({ a: 1 }, { unique: true }), 11000);
  });
});

describe('find and cursors', () => {
  test('filter, sort, skip, limit, projection keeping field order', async () => {
    const c = await fresh('find');
    const docs = [];
    for (let i = 0; i < 30; i++) docs.push({ _id: i, name: 'n' + i, price: Long.fromNumber(100 - i), cat: i % 3, meta: { a: i, b: 'x' } });
    await c.insertMany(docs);
    const r = await c.find({ cat: 1 }, { sort: { price: 1 }, skip: 1, limit: 3, projection: { meta: 1, name: 1 } }).toArray();
    assert.deepEqual(r.map((d) => d._id), [25, 22, 19]);
    assert.deepEqual(Object.keys(r[0]), ['_id', 'name', 'meta']);
    const r2 = await c.find({ _id: 4 }, { projection: { 'meta.a': 1, _id: 0 } }).toArray();
    assert.deepEqual(r2, [{ meta: { a: 4 } }]);
    const r3 = await c.find({ _id: 4 }, { projection: { meta: 0, cat: 0 } }).toArray();
    assert.deepEqual(Object.keys(r3[0]), ['_id', 'name', 'price']);
  });
  // MongoDB: cursors return batches, getMore continues with the same id and
  // ns; killCursors reports killed ids; an unknown cursor -> 43.
  test('batches, getMore, killCursors', async () => {
    const c = await fresh('cur');
    await c.insertMany(Array.from({ length: 250 }, (_, i) => ({ _id: i })));
    const r = await db.command({ find: 'cur', batchSize: 100, sort: { _id: 1 } });
    assert.equal(r.cursor.firstBatch.length, 100);
    assert.equal(r.cursor.ns, 'standin_node_compat.cur');
    assert.ok(r.cursor.id > 0n || Number(r.cursor.id) > 0);
    const m = await db.command({ getMore: r.cursor.id, collection: 'cur', batchSize: 100 });
    assert.equal(m.cursor.nextBatch[0]._id, 100);
    const k = await db.command({ killCursors: 'cur', cursors: [r.cursor.id] });
    assert.equal(k.cursorsKilled.length, 1);
    await expectCode(db.command({ getMore: r.cursor.id, collection: 'cur' }), 43);
    const all = await c.find({}, { batchSize: 7 }).toArray();
    assert.equal(all.length, 250);
    const single = await db.command({ find: 'cur', batchSize: 5, singleBatch: true });
    assert.equal(Number(single.cursor.id), 0);
  });
  // MongoDB: unknown query operator -> BadValue (2) "unknown operator: $foo".
  test('unknown operator -> 2', async () => {
    const c = await fresh('unk');
    const e = await expectCode(c.find({ a: { $foo: 1 } }).toArray(), 2);
    assert.match(e.message, /unknown operator: \$foo/);
    await expectCode(c.find({ $foo: [] }).toArray(), 2);
  });
  test('count and distinct', async () => {
    const c = await fresh('cd');
    await c.insertMany([{ t: ['a', 'b'] }, { t: ['b', 'c'] }, { t: 'd' }]);
    assert.equal(await c.countDocuments({ t: 'b' }), 2);
    assert.equal((await db.command({ count: 'cd', query: {} })).n, 3);
    assert.deepEqual((await c.distinct('t')).sort(), ['a', 'b', 'c', 'd']);
  });
});

describe('updates', () => {
  test('operators, upsert, multi', async () => {
    const c = await fresh('upd');
    await c.insertOne({ _id: 1, a: 1, arr: [1, 2, 3, 2], tags: ['x'], o: { k: 1 }, old: 5, lo: 10, hi: 10 });
    await c.updateOne({ _id: 1 }, {
      $set: { 'o.n': 2, s: 'v' }, $unset: { a: '' }, $push: { arr: { $each: [9], $slice: -5 } }, $pull: { tags: 'x' },
      $addToSet: { set: { $each: [1, 1, 2] } }, $rename: { old: 'renamed' }, $min: { lo: 3 }, $max: { hi: 20 },
      $currentDate: { touched: true },
    });
    const r = await c.findOne({ _id: 1 });
    assert.equal(r.a, undefined);
    assert.deepEqual(r.o, { k: 1, n: 2 });
    assert.deepEqual(r.arr, [1, 2, 3, 2, 9]);
    assert.deepEqual(r.tags, []);
    assert.deepEqual(r.set, [1, 2]);
    assert.equal(r.renamed, 5);
    assert.equal(r.lo, 3);
    assert.equal(r.hi, 20);
    assert.ok(r.touched instanceof Date);
    const u = await c.updateOne({ _id: 7 }, { $set: { x: 1 }, $setOnInsert: { created: true } }, { upsert: true });
    assert.equal(u.upsertedId, 7);
    assert.deepEqual(await c.findOne({ _id: 7 }), { _id: 7, x: 1, created: true });
    await c.updateOne({ _id: 7 }, { $set: { x: 2 }, $setOnInsert: { created: false } }, { upsert: true });
    assert.equal((await c.findOne({ _id: 7 })).created, true);
    await c.insertMany([{ g: 1 }, { g: 1 }, { g: 2 }]);
    const m = await c.updateMany({ g: 1 }, { $inc: { n: 1 } });
    assert.equal(m.matchedCount, 2);
    assert.equal(m.modifiedCount, 2);
    const noop = await c.updateOne({ _id: 7 }, { $set: { x: 2 } });
    assert.equal(noop.matchedCount, 1);
    assert.equal(noop.modifiedCount, 0);
  });
  // MongoDB: `$` updates the first matched array element; arrayFilters
  // select elements by identifier.
  test('positional $ and arrayFilters', async () => {
    const c = await fresh('pos');
    await c.insertOne({ _id: 1, items: [{ sku: 'a', q: 1 }, { sku: 'b', q: 2 }, { sku: 'c', q: 5 }] });
    await c.updateOne({ _id: 1, 'items.sku': 'b' }, { $inc: { 'items.$.q': 10 } });
    await c.updateOne({ _id: 1 }, { $set: { 'items.$[big].flag': true } }, { arrayFilters: [{ 'big.q': { $gte: 5 } }] });
    await c.updateOne({ _id: 1 }, { $inc: { 'items.$[].q': 1 } });
    const r = await c.findOne({ _id: 1 });
    assert.deepEqual(r.items, [{ sku: 'a', q: 2 }, { sku: 'b', q: 13, flag: true }, { sku: 'c', q: 6, flag: true }]);
  });
  // MongoDB: modifying _id -> ImmutableField (66); unknown modifier -> 9;
  // conflicting paths -> 40; $inc on a string -> 14.
  test('update errors', async () => {
    const c = await fresh('upderr');
    await c.insertOne({ _id: 1, s: 'x' });
    await expectCode(c.updateOne({ _id: 1 }, { $set: { _id: 2 } }), 66);
    await expectCode(c.updateOne({ _id: 1 }, { $bogus: { a: 1 } }), 9);
    await expectCode(c.updateOne({ _id: 1 }, { $set: { a: 1 }, $inc: { a: 1 } }), 40);
    await expectCode(c.updateOne({ _id: 1 }, { $inc: { s: 1 } }), 14);
  });
  test('replacement and delete limit', async () => {
    const c = await fresh('repl');
    await c.insertMany([{ _id: 1, a: 1, b: 2 }, { _id: 2, k: 1 }, { _id: 3, k: 1 }, { _id: 4, k: 1 }]);
    await c.replaceOne({ _id: 1 }, { z: 1 });
    assert.deepEqual(await c.findOne({ _id: 1 }), { _id: 1, z: 1 });
    assert.equal((await c.deleteOne({ k: 1 })).deletedCount, 1);
    assert.equal((await c.deleteMany({ k: 1 })).deletedCount, 2);
  });
});

describe('findAndModify', () => {
  // MongoDB: returns the old document by default, the new one with new:true,
  // upserts, removes, respects sort and fields.
  test('variants', async () => {
    const c = await fresh('fam');
    await c.insertMany([{ _id: 1, q: 1, v: 'a' }, { _id: 2, q: 1, v: 'b' }]);
    let r = await c.findOneAndUpdate({ q: 1 }, { $set: { v: 'z' } }, { sort: { _id: -1 }, returnDocument: 'before', includeResultMetadata: true });
    assert.equal(r.value._id, 2);
    assert.equal(r.value.v, 'b');
    assert.equal(r.lastErrorObject.updatedExisting, true);
    r = await c.findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } }, { returnDocument: 'after', projection: { n: 1, _id: 0 } });
    assert.deepEqual(r, { n: 1 });
    r = await c.findOneAndUpdate({ _id: 9 }, { $set: { v: 'new' } }, { upsert: true, returnDocument: 'after' });
    assert.deepEqual(r, { _id: 9, v: 'new' });
    r = await c.findOneAndDelete({ _id: 9 });
    assert.equal(r.v, 'new');
    r = await c.findOneAndReplace({ _id: 1 }, { w: 1 }, { returnDocument: 'after' });
    assert.deepEqual(r, { _id: 1, w: 1 });
    r = await c.findOneAndUpdate({ _id: 404 }, { $set: { a: 1 } });
    assert.equal(r, null);
  });
});

describe('aggregation', () => {
  before(async () => {
    const o = await fresh('orders');
    const p = await fresh('products');
    await p.insertMany([{ _id: 'p1', name: 'Pen', price: Long.fromNumber(150) }, { _id: 'p2', name: 'Ink', price: Long.fromNumber(900) }]);
    await o.insertMany([
      { _id: 1, user: 'u1', items: [{ pid: 'p1', qty: 2 }, { pid: 'p2', qty: 1 }], total: Long.fromNumber(1200), rating: new Double(4), status: 'paid' },
      { _id: 2, user: 'u2', items: [{ pid: 'p1', qty: 1 }], total: Long.fromNumber(150), rating: new Double(5), status: 'paid' },
      { _id: 3, user: 'u1', items: [], total: Long.fromNumber(0), rating: new Double(3), status: 'new' },
    ]);
  });
  // MongoDB: $sum of int64 is int64; $avg is double.
  test('$match $group $sort keep int64 sums', async () => {
    const r = await db.collection('orders').aggregate([
      { $match: { status: 'paid' } }, { $group: { _id: '$user', sum: { $sum: '$total' }, avg: { $avg: '$rating' }, n: { $sum: 1 } } }, { $sort: { _id: 1 } },
    ], RAW).toArray();
    assert.equal(r.length, 2);
    assert.ok(r[0].sum instanceof Long && r[0].sum.toNumber() === 1200, 'sum of int64 stays int64');
    assert.ok(r[0].avg instanceof Double);
    assert.ok(r[0].n instanceof Int32);
  });
  test('$unwind $lookup $project $addFields $skip $limit', async () => {
    const r = await db.collection('orders').aggregate([
      { $unwind: '$items' },
      { $lookup: { from: 'products', localField: 'items.pid', foreignField: '_id', as: 'prod' } },
      { $unwind: '$prod' },
      { $addFields: { line: { $multiply: ['$prod.price', '$items.qty'] } } },
      { $project: { _id: 0, order: '$_id', name: '$prod.name', line: 1 } },
      { $sort: { order: 1, name: 1 } }, { $skip: 1 }, { $limit: 2 },
    ]).toArray();
    assert.deepEqual(r, [{ line: 300, order: 1, name: 'Pen' }, { line: 150, order: 2, name: 'Pen' }].map((d) => ({ order: d.order, name: d.name, line: d.line })).map((d) => r.find((x) => x.order === d.order && x.name === d.name)));
    assert.equal(r.length, 2);
    assert.equal(r[0].name, 'Pen');
    assert.equal(Number(r[0].line), 300);
  });
  test('$facet $count $bucket', async () => {
    const [r] = await db.collection('orders').aggregate([
      { $facet: {
        count: [{ $count: 'n' }],
        buckets: [{ $bucket: { groupBy: '$rating', boundaries: [0, 4, 6], default: 'other', output: { c: { $sum: 1 } } } }],
      } },
    ]).toArray();
    assert.deepEqual(r.count, [{ n: 3 }]);
    assert.deepEqual(r.buckets, [{ _id: 0, c: 1 }, { _id: 4, c: 2 }]);
  });
  // MongoDB never modifies stored documents while aggregating.
  test('aggregation does not mutate stored documents', async () => {
    await db.collection('orders').aggregate([{ $unwind: '$items' }, { $set: { 'items.qty': 100 } }]).toArray();
    const o = await db.collection('orders').findOne({ _id: 1 });
    assert.equal(o.items[0].qty, 2);
  });
  // MongoDB: $out replaces the target; $merge upserts into it.
  test('$out and $merge', async () => {
    await db.collection('orders').aggregate([{ $match: { status: 'paid' } }, { $project: { user: 1, total: 1 } }, { $out: 'paid_orders' }]).toArray();
    assert.equal(await db.collection('paid_orders').countDocuments(), 2);
    const one = await db.collection('paid_orders').findOne({ _id: 1 }, RAW);
    assert.ok(one.total instanceof Long);
    await db.collection('orders').aggregate([{ $group: { _id: '$user', spent: { $sum: '$total' } } }, { $merge: { into: 'user_totals' } }]).toArray();
    await db.collection('orders').aggregate([{ $group: { _id: '$user', spent: { $sum: '$total' } } }, { $merge: { into: 'user_totals' } }]).toArray();
    const t = await db.collection('user_totals').find({}, { sort: { _id: 1 } }).toArray();
    assert.equal(t.length, 2);
    assert.equal(Number(t[0].spent), 1200);
  });
  test('unknown stage -> 40324', async () => {
    await expectCode(db.collection('orders').aggregate([{ $nope: {} }]).toArray(), 40324);
  });
});

describe('text search', () => {
  // MongoDB: $text needs a text index (27); ranks by weighted term frequency;
  // supports phrases, negation, stop words and stemming; textScore via $meta.
  test('no text index -> 27', async () => {
    const c = await fresh('notext');
    await c.insertOne({ a: 'hello' });
    const e = await expectCode(c.find({ $text: { $search: 'hello' } }).toArray(), 27);
    assert.match(e.message, /text index required for \$text query/);
  });
  test('ranking, phrases, negation, stemming, textScore', async () => {
    const c = await fresh('text');
    await c.createIndex({ name: 'text', description: 'text' }, { weights: { name: 10, description: 1 }, default_language: 'english' });
    await c.insertMany([
      { _id: 1, name: 'Red running shoes', description: 'Light shoes for runners' },
      { _id: 2, name: 'Blue jacket', description: 'A warm jacket, good for running in the cold' },
      { _id: 3, name: 'Green shoe', description: 'Classic leather shoe' },
      { _id: 4, name: 'Socks', description: 'the and of' },
    ]);
    const r = await c.find({ $text: { $search: 'shoes' } }, { projection: { score: { $meta: 'textScore' } }, sort: { score: { $meta: 'textScore' } } }).toArray();
    assert.deepEqual(r.map((d) => d._id).sort(), [1, 3]);
    assert.ok(r[0].score > 0);
    assert.ok(r[0].score >= r[1].score);
    const run = await c.find({ $text: { $search: 'run' } }).toArray(); // stems running/runners? running -> run
    assert.ok(run.some((d) => d._id === 1) && run.some((d) => d._id === 2));
    const nameHit = await c.find({ $text: { $search: 'jacket running' } }, { projection: { score: { $meta: 'textScore' } }, sort: { score: { $meta: 'textScore' } } }).toArray();
    assert.equal(nameHit[0]._id, 2, 'name weight 10 ranks jacket first');
    const phrase = await c.find({ $text: { $search: '"leather shoe"' } }).toArray();
    assert.deepEqual(phrase.map((d) => d._id), [3]);
    const neg = await c.find({ $text: { $search: 'shoes -red' } }).toArray();
    assert.deepEqual(neg.map((d) => d._id), [3]);
    assert.equal((await c.find({ $text: { $search: 'the and' } }).toArray()).length, 0, 'stop words match nothing');
    const agg = await c.aggregate([{ $match: { $text: { $search: 'shoe' } } }, { $project: { s: { $meta: 'textScore' } } }, { $sort: { s: -1 } }]).toArray();
    assert.equal(agg.length, 2);
    assert.ok(agg[0].s >= agg[1].s && agg[1].s > 0);
  });
});

describe('transactions', () => {
  // MongoDB: outside readers see committed data only; the transaction sees
  // its own writes; commit publishes, abort discards.
  test('snapshot isolation, commit, abort', async () => {
    const c = await fresh('txn');
    await c.insertOne({ _id: 1, v: 0 });
    const s = client.startSession();
    s.startTransaction();
    await c.updateOne({ _id: 1 }, { $set: { v: 1 } }, { session: s });
    await c.insertOne({ _id: 2 }, { session: s });
    assert.equal((await c.findOne({ _id: 1 }, { session: s })).v, 1);
    assert.equal(await c.countDocuments({}, { session: s }), 2);
    assert.equal((await c.findOne({ _id: 1 })).v, 0);
    assert.equal(await c.countDocuments({}), 1);
    await s.commitTransaction();
    assert.equal((await c.findOne({ _id: 1 })).v, 1);
    assert.equal(await c.countDocuments({}), 2);
    s.startTransaction();
    await c.deleteOne({ _id: 2 }, { session: s });
    await s.abortTransaction();
    assert.equal(await c.countDocuments({}), 2);
    await s.endSession();
  });
  // MongoDB: a write to a document another open transaction wrote fails
  // with WriteConflict (112) labelled TransientTransactionError, and the
  // transaction is aborted (NoSuchTransaction 251 afterwards).
  test('write conflict -> 112 TransientTransactionError', async () => {
    const c = await fresh('conflict');
    await c.insertOne({ _id: 1, stock: 5 });
    const s1 = client.startSession(), s2 = client.startSession();
    s1.startTransaction();
    s2.startTransaction();
    await c.updateOne({ _id: 1 }, { $inc: { stock: -1 } }, { session: s1 });
    await expectCode(c.updateOne({ _id: 1 }, { $inc: { stock: -1 } }, { session: s2 }), 112, 'TransientTransactionError');
    await expectCode(s2.commitTransaction(), 251);
    await s1.commitTransaction();
    assert.equal((await c.findOne({ _id: 1 })).stock, 4);
    // A txn whose snapshot predates a committed write conflicts too.
    s1.startTransaction();
    await c.findOne({ _id: 1 }, { session: s1 });
    await c.updateOne({ _id: 1 }, { $set: { outside: true } });
    await expectCode(c.updateOne({ _id: 1 }, { $inc: { stock: -1 } }, { session: s1 }), 112, 'TransientTransactionError');
    await s1.abortTransaction().catch(() => {});
    await s1.endSession(); await s2.endSession();
  });
  // withTransaction retries on TransientTransactionError.
  test('withTransaction retries after a conflict', async () => {
    const c = await fresh('retry');
    await c.insertOne({ _id: 1, n: 0 });
    const s = client.startSession(), blocker = client.startSession();
    let attempts = 0;
    await s.withTransaction(async () => {
      attempts++;
      if (attempts === 1) {
        blocker.startTransaction();
        await c.updateOne({ _id: 1 }, { $set: { b: 1 } }, { session: blocker });
        setTimeout(() => blocker.abortTransaction().catch(() => {}), 10);
      }
      await c.updateOne({ _id: 1 }, { $inc: { n: 1 } }, { session: s });
    });
    assert.ok(attempts >= 1);
    assert.equal((await c.findOne({ _id: 1 })).n, 1);
    await s.endSession(); await blocker.endSession();
  });
  // MongoDB: commitTransaction retried after success is OK.
  test('commit is idempotent; unknown txn -> 251', async () => {
    const c = await fresh('idem');
    const s = client.startSession();
    s.startTransaction();
    await c.insertOne({ _id: 1 }, { session: s });
    await s.commitTransaction();
    await s.commitTransaction(); // the driver re-sends commitTransaction for the same txnNumber
    assert.equal(await c.countDocuments({}), 1);
    // abort after an abort: the driver refuses client-side; on the server an
    // unknown transaction is NoSuchTransaction (checked in the conflict case).
    await s.endSession();
  });
  // MongoDB: a retried write (same lsid + txnNumber) is not applied twice.
  test('retryable write replay', async () => {
    const c = await fresh('rw');
    const own = await connect(URI); // fresh client: fresh server session (lsid)
    const session = own.startSession();
    const cmd = (n) => ({ insert: 'rw', documents: [{ _id: 1 }], txnNumber: Long.fromNumber(n) });
    const odb = own.db(db.databaseName);
    const a = await odb.command(cmd(1), { session });
    const b = await odb.command(cmd(1), { session });
    assert.equal(a.n, 1);
    assert.equal(b.n, 1);
    assert.equal(await c.countDocuments({}), 1);
    const d = await odb.command(cmd(2), { session });
    assert.equal(d.writeErrors[0].code, 11000);
    await session.endSession();
    await own.close();
  });
});

// Issue 18: the stand-in must fail where MongoDB fails. Every case runs
// against a real replica set too (MONGODB_URI); what a real server cannot
// do here is skipped with t.skip (counted by run.sh).
describe('issue 18: MongoDB semantics the application relies on', () => {
  // MongoDB: $addFields {$meta: "textScore"} makes an ordinary field that
  // later stages filter, sort and limit on (the catalog's relevance sort).
  test('$addFields textScore then $match/$sort/$limit on it', async () => {
    const c = await fresh('tscore');
    await c.createIndex({ name: 'text', description: 'text' }, { weights: { name: 10, description: 1 } });
    await c.insertMany([
      { _id: 1, name: 'red shoe', description: 'a shoe' },
      { _id: 2, name: 'blue hat', description: 'goes with a shoe' },
      { _id: 3, name: 'green scarf', description: 'warm' },
    ]);
    const r = await c.aggregate([
      { $match: { $text: { $search: 'shoe' } } },
      { $addFields: { _score: { $meta: 'textScore' } } },
      { $match: { _score: { $gt: 0 } } },
      { $sort: { _score: -1, _id: 1 } },
      { $limit: 1 },
    ], RAW).toArray();
    assert.equal(r.length, 1);
    assert.equal(Number(r[0]._id), 1);
    assert.ok(r[0]._score instanceof Double, 'textScore is a double');
    assert.ok(r[0]._score.value > 0);
  });

  // MongoDB: the catalog's facet pipeline (src/catalog/product_routes.c):
  // compound _id $group, {$type: "string"} on _id.v, int64 $min/$max.
  test('facets: compound _id $group, $type match, int64 $min/$max', async () => {
    const c = await fresh('facets');
    const big = Long.fromString('9007199254740993'); // above 2^53
    await c.insertMany([
      { _id: 'a', min_price: Long.fromNumber(500), max_price: big, variants: [{ options: { size: 'M', color: 'red' } }, { options: { size: 'L', color: 'red' } }] },
      { _id: 'b', min_price: Long.fromNumber(200), max_price: Long.fromNumber(300), variants: [{ options: { size: 'M' } }, { options: { size: 'M', color: 'blue' } }] },
      { _id: 'c', min_price: Long.fromNumber(900), max_price: Long.fromNumber(900), variants: [] },
    ]);
    const facet = { $facet: {
      sizes: [{ $unwind: '$variants' }, { $group: { _id: { p: '$_id', v: '$variants.options.size' } } },
        { $match: { '_id.v': { $type: 'string' } } }, { $group: { _id: '$_id.v', count: { $sum: 1 } } }, { $sort: { _id: 1 } }],
      colors: [{ $unwind: '$variants' }, { $group: { _id: { p: '$_id', v: '$variants.options.color' } } },
        { $match: { '_id.v': { $type: 'string' } } }, { $group: { _id: '$_id.v', count: { $sum: 1 } } }, { $sort: { _id: 1 } }],
      price: [{ $group: { _id: null, min: { $min: '$min_price' }, max: { $max: '$max_price' }, count: { $sum: 1 } } }],
    } };
    const [r] = await c.aggregate([{ $match: {} }, facet], RAW).toArray();
    assert.deepEqual(r.sizes.map((x) => [x._id, x.count.valueOf()]), [['L', 1], ['M', 2]]);
    assert.ok(r.sizes[0].count instanceof Int32, '$sum: 1 is int32');
    assert.deepEqual(r.colors.map((x) => [x._id, x.count.valueOf()]), [['blue', 1], ['red', 1]]);
    assert.ok(r.price[0].min instanceof Long && r.price[0].min.toString() === '200', 'int64 $min stays int64');
    assert.ok(r.price[0].max instanceof Long && r.price[0].max.toString() === '9007199254740993', 'int64 $max keeps every digit');
    assert.equal(r.price[0].count.valueOf(), 3);
  });

  // MongoDB: a partial unique index only constrains documents matching its
  // filter ({$exists: true}): many documents may lack the key.
  test('partial unique index with $exists', async () => {
    const c = await fresh('partial_exists');
    await c.createIndex({ sku: 1 }, { unique: true, partialFilterExpression: { sku: { $exists: true } } });
    await c.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3, sku: 'A' }]);
    const e = await expectCode(c.insertOne({ _id: 4, sku: 'A' }), 11000);
    assert.deepEqual(e.keyValue, { sku: 'A' });
    await c.insertOne({ _id: 5, sku: null }); // $exists: true matches null
    await expectCode(c.insertOne({ _id: 6, sku: null }), 11000);
    assert.equal(await c.countDocuments({ sku: { $exists: false } }), 2);
  });

  // MongoDB: expireAfterSeconds: 0 removes a document once its date has
  // passed. The TTL monitor runs every ttlMonitorSleepSecs (60 s by
  // default, on mongod and on the stand-in); the test sets it to 1 s.
  test('TTL with expireAfterSeconds: 0', async (t) => {
    const admin = client.db('admin');
    const p = await admin.command({ getParameter: 1, ttlMonitorSleepSecs: 1 }).catch(() => null);
    const set = await admin.command({ setParameter: 1, ttlMonitorSleepSecs: 1 }).catch((e) => e);
    if (set instanceof Error) { t.skip('setParameter ttlMonitorSleepSecs refused: ' + set.message); return; }
    try {
      const c = await fresh('ttl0');
      await c.createIndex({ expires_at: 1 }, { expireAfterSeconds: 0 });
      await c.insertMany([{ _id: 'old', expires_at: new Date(Date.now() - 1000) }, { _id: 'new', expires_at: new Date(Date.now() + 3600e3) }, { _id: 'none' }]);
      const until = Date.now() + 15000;
      while (Date.now() < until && await c.countDocuments({ _id: 'old' })) await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual((await c.find({}, { sort: { _id: 1 } }).toArray()).map((d) => d._id), ['new', 'none']);
    } finally {
      await admin.command({ setParameter: 1, ttlMonitorSleepSecs: p ? p.ttlMonitorSleepSecs : 60 }).catch(() => {});
    }
  });

  // MongoDB: findAndModify picks the first document in `sort` order and
  // returns only `fields` (the job runner's lease claim).
  test('findAndModify with sort and fields', async () => {
    const c = await fresh('fam_sort');
    await c.insertMany([
      { _id: 1, state: 'queued', run_at: new Date(3000), payload: 'x', attempts: 0 },
      { _id: 2, state: 'queued', run_at: new Date(1000), payload: 'y', attempts: 0 },
      { _id: 3, state: 'done', run_at: new Date(0), payload: 'z', attempts: 0 },
    ]);
    const r = await db.command({
      findAndModify: 'fam_sort', query: { state: 'queued' }, sort: { run_at: 1 },
      update: { $set: { state: 'leased' }, $inc: { attempts: 1 } }, new: true, fields: { state: 1, attempts: 1 },
    });
    assert.deepEqual(r.value, { _id: 2, state: 'leased', attempts: 1 });
    const r2 = await db.command({ findAndModify: 'fam_sort', query: { state: 'queued' }, sort: { run_at: -1 }, remove: true, fields: { _id: 0, payload: 1 } });
    assert.deepEqual(r2.value, { payload: 'x' });
  });

  // MongoDB: count_documents is an aggregate ($match + $group), so it works
  // in a transaction; the `count` command does not (263).
  test('countDocuments in a transaction works, count -> 263', async () => {
    const c = await fresh('txn_count');
    await c.insertMany([{ _id: 1 }, { _id: 2 }]);
    const s = client.startSession();
    try {
      s.startTransaction();
      await c.insertOne({ _id: 3 }, { session: s });
      assert.equal(await c.countDocuments({}, { session: s }), 3);
      await expectCode(db.command({ count: 'txn_count' }, { session: s }), 263);
      await s.abortTransaction().catch(() => {});
    } finally { await s.endSession(); }
  });

  // MongoDB: two open transactions inserting one unique key: the second
  // gets WriteConflict (112, TransientTransactionError); once the first has
  // committed, its retry gets E11000.
  test('two transactions, one unique key: 112 then 11000', async () => {
    const c = await fresh('txn_unique');
    await c.createIndex({ order_no: 1 }, { unique: true });
    const s1 = client.startSession(), s2 = client.startSession();
    try {
      s1.startTransaction(); s2.startTransaction();
      await c.insertOne({ order_no: 'N-1', by: 1 }, { session: s1 });
      await expectCode(c.insertOne({ order_no: 'N-1', by: 2 }, { session: s2 }), 112, 'TransientTransactionError');
      await s2.abortTransaction().catch(() => {});
      await s1.commitTransaction();
      s2.startTransaction();
      await expectCode(c.insertOne({ order_no: 'N-1', by: 2 }, { session: s2 }), 11000);
      await s2.abortTransaction().catch(() => {});
      assert.deepEqual((await c.find({}).toArray()).map((d) => d.by), [1]);
    } finally { await s1.endSession(); await s2.endSession(); }
  });

  // MongoDB: a plain write to a document an open transaction wrote waits
  // for the transaction to end (no error), then applies; with maxTimeMS it
  // fails with MaxTimeMSExpired (50) if the transaction outlasts it.
  test('plain write waits for a transaction; maxTimeMS 50 -> 50', async () => {
    const c = await fresh('txn_block');
    await c.insertOne({ _id: 1, n: 0 });
    const s = client.startSession();
    try {
      s.startTransaction();
      await c.updateOne({ _id: 1 }, { $inc: { n: 1 } }, { session: s });
      await expectCode(c.updateOne({ _id: 1 }, { $inc: { n: 10 } }, { maxTimeMS: 50 }), 50);
      const t0 = Date.now();
      const waiting = c.updateOne({ _id: 1 }, { $inc: { n: 100 } });
      setTimeout(() => s.commitTransaction().catch(() => {}), 300);
      const r = await waiting;
      assert.equal(r.modifiedCount, 1);
      assert.ok(Date.now() - t0 >= 250, 'the plain write waited for the commit');
      assert.equal((await c.findOne({ _id: 1 })).n, 101);
    } finally { await s.endSession(); }
  });

  // MongoDB keeps int64 exact: a filter on 2^53 + 1 does not match 2^53,
  // $inc of int64 keeps every digit, $group $sum/$max of int64 too, and
  // $type tells long from int and double.
  test('int64 above 2^53 exact through filter, $inc, $group, $type', async () => {
    const c = await fresh('int64_exact');
    const a = Long.fromString('9007199254740992'), b = Long.fromString('9007199254740993');
    await c.insertMany([{ _id: 1, v: a, k: 'x' }, { _id: 2, v: b, k: 'x' }, { _id: 3, v: new Int32(1), k: 'y' }, { _id: 4, v: new Double(1), k: 'y' }]);
    assert.deepEqual((await c.find({ v: b }).toArray()).map((d) => d._id), [2]);
    assert.deepEqual((await c.find({ v: { $gt: a } }).toArray()).map((d) => d._id), [2]);
    assert.deepEqual((await c.find({ v: { $type: 'long' } }).toArray()).map((d) => d._id), [1, 2]);
    assert.deepEqual((await c.find({ v: { $type: 'int' } }).toArray()).map((d) => d._id), [3]);
    assert.deepEqual((await c.find({ v: { $type: 'double' } }).toArray()).map((d) => d._id), [4]);
    await c.updateOne({ _id: 2 }, { $inc: { v: Long.fromNumber(2) } });
    assert.equal((await c.findOne({ _id: 2 }, RAW)).v.toString(), '9007199254740995');
    const g = await c.aggregate([{ $match: { k: 'x' } }, { $group: { _id: '$k', s: { $sum: '$v' }, mx: { $max: '$v' } } }], RAW).toArray();
    assert.ok(g[0].s instanceof Long);
    assert.equal(g[0].s.toString(), '18014398509481987');
    assert.equal(g[0].mx.toString(), '9007199254740995');
    const p = await c.find({ _id: 2 }, { projection: { w: { $add: ['$v', Long.fromNumber(1)] } }, ...RAW }).toArray();
    assert.ok(p[0].w instanceof Long);
    assert.equal(p[0].w.toString(), '9007199254740996');
  });

  // MongoDB: $jsonSchema validators refuse a document with 121
  // DocumentValidationFailure and errInfo {failingDocumentId, details}:
  // money as a double where bsonType long is required, a missing required
  // field; on insert, update, upsert, findAndModify, and in a transaction.
  test('$jsonSchema validator: 121 with errInfo', async () => {
    await db.collection('vorders').drop().catch(() => {});
    const schema = { bsonType: 'object', required: ['total', 'currency'], properties: {
      total: { bsonType: 'long', minimum: 0 }, currency: { bsonType: 'string', enum: ['BDT', 'USD'] },
      items: { bsonType: 'array', minItems: 1, items: { bsonType: 'object', required: ['sku'], properties: { sku: { bsonType: 'string', pattern: '^[A-Z0-9-]+$' } } } } } };
    await db.createCollection('vorders', { validator: { $jsonSchema: schema } });
    const c = db.collection('vorders');
    await c.insertOne({ _id: 1, total: Long.fromNumber(100), currency: 'BDT', items: [{ sku: 'A-1' }] });
    let e = await expectCode(c.insertOne({ _id: 2, total: new Double(1.5), currency: 'BDT' }), 121);
    assert.equal(e.errInfo.failingDocumentId, 2);
    assert.equal(e.errInfo.details.operatorName, '$jsonSchema');
    assert.match(JSON.stringify(e.errInfo.details), /bsonType/);
    e = await expectCode(c.insertOne({ _id: 3, total: Long.fromNumber(1) }), 121);
    assert.match(JSON.stringify(e.errInfo.details), /"missingProperties":\["currency"\]/);
    await expectCode(c.updateOne({ _id: 1 }, { $set: { total: new Double(2) } }), 121);
    await expectCode(c.updateOne({ _id: 9 }, { $set: { currency: 'BDT' } }, { upsert: true }), 121);
    await expectCode(c.findOneAndUpdate({ _id: 1 }, { $set: { items: [] } }), 121);
    await expectCode(c.insertOne({ _id: 4, total: Long.fromNumber(1), currency: 'EUR' }), 121);
    const s = client.startSession();
    try {
      s.startTransaction();
      await expectCode(c.insertOne({ _id: 5, total: 7, currency: 'USD' }, { session: s }), 121);
      await s.abortTransaction().catch(() => {});
    } finally { await s.endSession(); }
    const [info] = await db.listCollections({ name: 'vorders' }).toArray();
    assert.equal(info.options.validationLevel, 'strict');
    assert.equal(info.options.validationAction, 'error');
    assert.ok(info.options.validator.$jsonSchema);
    assert.equal((await c.findOne({ _id: 1 })).total, 100);
    await db.command({ collMod: 'vorders', validator: { $jsonSchema: { bsonType: 'object', required: ['total'] } } });
    await c.insertOne({ _id: 6, total: 5 }); // the new validator allows it
    await expectCode(c.insertOne({ _id: 7 }), 121);
  });
});

describe('stand-in specific servers', { skip: skipReal }, () => {
  // A standalone mongod refuses transaction numbers: IllegalOperation (20).
  test('standalone refuses transactions', async () => {
    const sa = await startStandin([]);
    const c = await connect(`mongodb://127.0.0.1:${sa.port}/?directConnection=true`);
    const d = c.db('x');
    const e = await expectCode(d.command({ insert: 'a', documents: [{}], lsid: { id: new UUID() }, txnNumber: Long.fromNumber(1), autocommit: false, startTransaction: true }), 20);
    assert.match(e.message, /Transaction numbers are only allowed on a replica set member or mongos/);
    const h = await d.admin().command({ hello: 1 });
    assert.equal(h.setName, undefined);
    await c.close();
    await sa.stop();
  });
  // MongoDB's TTL monitor deletes expired documents (every 60 s there; the
  // stand-in sweeps every --ttl-interval-ms).
  test('TTL expiry', async () => {
    const sv = await startStandin(['--repl-set', 'rs0', '--ttl-interval-ms', '200']);
    const c = await connect(`mongodb://127.0.0.1:${sv.port}/?replicaSet=rs0`);
    const col = c.db('x').collection('sessions');
    await col.createIndex({ at: 1 }, { expireAfterSeconds: 1 });
    await col.insertMany([{ _id: 'old', at: new Date(Date.now() - 5000) }, { _id: 'new', at: new Date(Date.now() + 60000) }, { _id: 'nodate', at: 'x' }]);
    await new Promise((r) => setTimeout(r, 700));
    assert.deepEqual((await col.find({}).toArray()).map((d) => d._id).sort(), ['new', 'nodate']);
    await c.close();
    await sv.stop();
  });
  // MongoDB aborts transactions older than transactionLifetimeLimitSeconds.
  test('abandoned transactions abort after the lifetime limit', async () => {
    const sv = await startStandin(['--repl-set', 'rs0', '--txn-lifetime-seconds', '1']);
    const c = await connect(`mongodb://127.0.0.1:${sv.port}/?replicaSet=rs0`);
    const col = c.db('x').collection('t');
    await col.insertOne({ _id: 1 });
    const s = c.startSession();
    s.startTransaction();
    await col.updateOne({ _id: 1 }, { $set: { a: 1 } }, { session: s });
    await new Promise((r) => setTimeout(r, 1500));
    await col.updateOne({ _id: 1 }, { $set: { b: 1 } }); // lock released
    await expectCode(s.commitTransaction(), 251);
    await s.endSession();
    await c.close();
    await sv.stop();
  });
  // Data survives a restart with --dbpath (snapshot on SIGTERM).
  test('persistence across restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'standin-db-'));
    let sv = await startStandin(['--repl-set', 'rs0', '--dbpath', dir]);
    let c = await connect(`mongodb://127.0.0.1:${sv.port}/?replicaSet=rs0`);
    await c.db('p').collection('c').createIndex({ k: 1 }, { unique: true });
    await c.db('p').collection('c').insertOne({ _id: 1, k: 'a', l: Long.fromNumber(42), d: new Double(1) });
    await c.close();
    assert.equal(await sv.stop('SIGTERM'), 0);
    sv = await startStandin(['--repl-set', 'rs0', '--dbpath', dir]);
    c = await connect(`mongodb://127.0.0.1:${sv.port}/?replicaSet=rs0`);
    const got = await c.db('p').collection('c').findOne({ _id: 1 }, RAW);
    assert.ok(got.l instanceof Long && got.d instanceof Double);
    await expectCode(c.db('p').collection('c').insertOne({ k: 'a' }), 11000);
    await c.close();
    await sv.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // A malformed message closes that connection; the server keeps serving.
  // --interleave-ms: a command yields between its read and its write, so
  // concurrent upserts race as on a busy mongod and the loser gets E11000
  // from the unique index (the race branches of src/auth/throttle.c and
  // otp.c). mongod 4.2+ retries some such upserts internally; the stand-in
  // does not, which is the stricter side. Without the switch the same
  // upserts never collide.
  test('--interleave-ms: concurrent upserts collide on the unique index', async () => {
    const race = async (args) => {
      const sv = await startStandin(['--repl-set', 'rs0', ...args]);
      const c = await connect(`mongodb://127.0.0.1:${sv.port}/?replicaSet=rs0&minPoolSize=8`);
      try {
        const col = c.db('x').collection('limits');
        await col.createIndex({ key: 1 }, { unique: true });
        // open the connections first, so the upserts really run at once
        await Promise.all(Array.from({ length: 8 }, () => c.db('x').command({ ping: 1 })));
        let dup = 0, docs = 0;
        const other = [];
        for (let round = 0; round < 5; round++) {
          const key = 'ip:' + round;
          const hit = () => col.findOneAndUpdate({ key, expires_at: { $gt: new Date() } },
            { $inc: { count: 1 }, $setOnInsert: { expires_at: new Date(Date.now() + 60000) } }, { upsert: true, returnDocument: 'after' })
            .then(() => 'ok', (e) => e.code);
          const res = await Promise.all(Array.from({ length: 8 }, hit));
          dup += res.filter((r) => r === 11000).length;
          other.push(...res.filter((r) => r !== 'ok' && r !== 11000));
          docs += await col.countDocuments({ key });
        }
        return { dup, other, docs };
      } finally { await c.close(); await sv.stop(); }
    };
    const calm = await race([]);
    assert.equal(calm.dup, 0, 'atomic commands never collide');
    assert.equal(calm.docs, 5);
    const busy = await race(['--interleave-ms', '20']);
    assert.ok(busy.dup > 0, 'interleaved upserts collide');
    assert.deepEqual(busy.other, []);
    assert.equal(busy.docs, 5, 'the unique index kept one document per key');
  });
  // failCommand: mongod's fault injection (test commands only).
  test('configureFailPoint: off by default, then errorCode/times/closeConnection', async () => {
    const plain = await startStandin(['--repl-set', 'rs0']);
    const c0 = await connect(`mongodb://127.0.0.1:${plain.port}/?replicaSet=rs0`);
    await expectCode(c0.db('admin').command({ configureFailPoint: 'failCommand', mode: 'alwaysOn', data: { failCommands: ['find'], errorCode: 2 } }), 59);
    await c0.close(); await plain.stop();
    const sv = await startStandin(['--repl-set', 'rs0', '--enable-test-commands']);
    const c = await connect(`mongodb://127.0.0.1:${sv.port}/?replicaSet=rs0&retryReads=false`);
    try {
      const admin = c.db('admin');
      await expectCode(c.db('x').command({ configureFailPoint: 'failCommand', mode: 'off' }), 13);
      await admin.command({ configureFailPoint: 'failCommand', mode: { times: 2 }, data: { failCommands: ['find'], errorCode: 11600, errorLabels: ['Custom'] } });
      const e = await expectCode(c.db('x').collection('a').findOne({}), 11600, 'Custom');
      assert.match(e.message, /failCommand/);
      await expectCode(c.db('x').collection('a').findOne({}), 11600);
      assert.equal(await c.db('x').collection('a').findOne({}), null, 'times: 2 is used up');
      const off = await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
      assert.equal(off.count, 2);
      await admin.command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['ping'], closeConnection: true } });
      await assert.rejects(c.db('x').command({ ping: 1 }), (x) => x.name === 'MongoNetworkError' || /closed|network/i.test(x.message));
      assert.equal((await c.db('x').command({ ping: 1 })).ok, 1);
      await admin.command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['insert'], writeConcernError: { code: 64, errmsg: 'wtimeout' } } });
      await assert.rejects(c.db('x').collection('a').insertOne({ _id: 1 }), (x) => x.code === 64);
      assert.equal(await c.db('x').collection('a').countDocuments({ _id: 1 }), 1, 'a writeConcernError does not undo the write');
      await admin.command({ configureFailPoint: 'failCommand', mode: 'alwaysOn', data: { failCommands: ['find'], blockConnection: true, blockTimeMS: 150 } });
      const t0 = Date.now();
      await expectCode(c.db('x').collection('a').find({}, { maxTimeMS: 50 }).toArray(), 50);
      assert.ok(Date.now() - t0 >= 140, 'blocked for blockTimeMS');
      await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
    } finally { await c.close(); await sv.stop(); }
  });
  test('malformed message does not crash the server', async () => {
    const net = require('net');
    const u = new URL(URI);
    await new Promise((resolve) => {
      const s = net.connect(Number(u.port), u.hostname, () => {
        const b = Buffer.alloc(30); b.writeInt32LE(30, 0); b.writeInt32LE(2013, 12); b.fill(0xff, 16);
        s.write(b);
      });
      s.on('close', resolve); s.on('error', resolve);
    });
    assert.equal((await db.command({ ping: 1 })).ok, 1);
  });
});

// Issue 16: the stand-in's query planner (lib/planner.js). Answers never
// depend on the plan: the same documents in the same order as a collection
// scan followed by a stable sort (MongoDB leaves ties unspecified; the
// stand-in breaks them by natural order, whatever the plan).
describe('query planner', { skip: skipReal }, () => {
  const lib = (m) => require(path.join(__dirname, '..', 'lib', m));
  const T = lib('types');
  const { Store } = lib('storage');
  const { normalizeSpec } = lib('indexes');
  const { compileMatcher } = lib('matcher');
  const { compileSort } = lib('query');
  const { _internal: C } = lib('commands/crud');

  // the catalog's indexes (src/catalog/module.c) plus a few other shapes
  const INDEXES = [
    { key: { slug: 1 }, name: 'slug_unique', unique: true },
    { key: { 'variants.sku': 1 }, name: 'variants_sku_unique', unique: true },
    { key: { title: 'text', brand: 'text', 'variants.sku': 'text' }, name: 'text_search', weights: { title: 10, brand: 5 } },
    { key: { status: 1, deleted_at: 1, created_at: -1, _id: -1 }, name: 'visible_newest' },
    { key: { status: 1, deleted_at: 1, min_price: 1, _id: 1 }, name: 'visible_price' },
    { key: { category_id: 1, status: 1, min_price: 1, _id: 1 }, name: 'category_price' },
    { key: { brand: 1, status: 1, min_price: 1, _id: 1 }, name: 'brand_price' },
    { key: { 'variants.options.size': 1, 'variants.options.color': 1 }, name: 'variant_size_color' },
    { key: { 'variants.options.color': 1 }, name: 'variant_color' },
    { key: { 'variants.price': 1 }, name: 'variant_price' },
    { key: { tags: 1 }, name: 'tags' },
    { key: { rank: -1 }, name: 'rank_desc' },
    { key: { owner: 1, created_at: -1, _id: -1 }, name: 'owner_newest' },
    { key: { sparse_f: 1 }, name: 'sparse_f', sparse: true },
  ];
  const WORDS = ['shirt', 'blue', 'cotton', 'shoe', 'running', 'linen', 'shirts', 'red'];
  const CATS = [1, 2, 3, 4].map((i) => new T.ObjectId('00000000000000000000000' + i));
  const pick = (rnd, a) => a[Math.floor(rnd() * a.length)];
  // deterministic PRNG (mulberry32): a failure names its seed
  const prng = (seed) => () => { seed |= 0; seed = (seed + 0x6D2B79F5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  let skuN = 0;
  let arrayPrices = false; // some seeds make min_price multikey (then no index gives its order)
  function randomDoc(rnd, id) {
    const d = { _id: id, slug: 'p' + id, title: pick(rnd, WORDS) + ' ' + pick(rnd, WORDS), brand: pick(rnd, ['acme', 'zed', 'Orbit']) };
    const st = rnd();
    d.status = st < 0.6 ? 'active' : st < 0.8 ? 'draft' : 'archived';
    const del = rnd();
    if (del < 0.7) d.deleted_at = null; else if (del < 0.85) d.deleted_at = new Date(1700000000000 + Math.floor(rnd() * 3) * 1000);
    d.category_id = pick(rnd, CATS);
    const pr = rnd();
    // prices of mixed numeric types, ties, a few missing or arrays (multikey)
    if (pr < 0.05) { /* missing */ } else if (pr < 0.1 && arrayPrices) d.min_price = [Math.floor(rnd() * 5), Math.floor(rnd() * 5)];
    else if (pr < 0.4) d.min_price = T.Long.fromNumber(Math.floor(rnd() * 8) * 100);
    else if (pr < 0.6) d.min_price = new T.Double(Math.floor(rnd() * 8) * 100);
    else d.min_price = Math.floor(rnd() * 8) * 100;
    d.created_at = new Date(1700000000000 + Math.floor(rnd() * 6) * 60000);
    const nv = Math.floor(rnd() * 4);
    d.variants = [];
    for (let i = 0; i < nv; i++) {
      d.variants.push({ sku: 'S' + (++skuN), price: T.Long.fromNumber(Math.floor(rnd() * 10) * 50), stock: T.Long.fromNumber(Math.floor(rnd() * 3)),
        options: { size: pick(rnd, ['S', 'M', 'L']), color: pick(rnd, ['red', 'blue']) } });
    }
    if (rnd() < 0.5) d.tags = rnd() < 0.5 ? pick(rnd, [1, 2, 3]) : [pick(rnd, [1, 2, 3]), pick(rnd, ['x', 'y'])];
    if (rnd() < 0.7) d.rank = Math.floor(rnd() * 4);
    if (rnd() < 0.5) d.owner = pick(rnd, ['u1', 'u2', 'u3']);
    if (rnd() < 0.3) d.sparse_f = Math.floor(rnd() * 3);
    return d;
  }
  function randomQuery(rnd) {
    const f = {};
    if (rnd() < 0.7) f.status = rnd() < 0.8 ? 'active' : { $in: ['active', 'draft'] };
    if (rnd() < 0.6) f.deleted_at = null;
    if (rnd() < 0.5) f.category_id = { $in: CATS.filter(() => rnd() < 0.5) };
    if (f.category_id && !f.category_id.$in.length) f.category_id = CATS[0];
    if (rnd() < 0.2) f.brand = pick(rnd, ['acme', 'zed']);
    if (rnd() < 0.4) {
      const em = {};
      if (rnd() < 0.7) em['options.size'] = pick(rnd, ['S', 'M', 'L']);
      if (rnd() < 0.4) em['options.color'] = pick(rnd, ['red', 'blue']);
      if (rnd() < 0.3) em.price = { $gte: T.Long.fromNumber(100), $lte: T.Long.fromNumber(300) };
      if (rnd() < 0.3) em.stock = { $gt: T.Long.fromNumber(0) };
      if (Object.keys(em).length) f.variants = { $elemMatch: em };
    }
    if (rnd() < 0.15) f.min_price = rnd() < 0.5 ? { $gte: 200, $lt: 600 } : { $gt: T.Long.fromNumber(300) };
    if (rnd() < 0.1) f.tags = pick(rnd, [1, 2, 'x', { $in: [1, 'y'] }, { $gt: 1 }]);
    if (rnd() < 0.1) f.rank = pick(rnd, [{ $gte: 2 }, { $lt: 2 }, 3, null]);
    if (rnd() < 0.1) f.owner = pick(rnd, ['u1', { $in: ['u2', 'u3'] }]);
    if (rnd() < 0.1) f.sparse_f = pick(rnd, [1, null, { $gte: 1 }]);
    if (rnd() < 0.1) f.$or = [{ _id: Math.floor(rnd() * 60) }, { slug: 'p' + Math.floor(rnd() * 60) }];
    if (rnd() < 0.08) f._id = { $in: [1, 2, 3, 5, 8, 13, 21, 34].filter(() => rnd() < 0.5) };
    if (rnd() < 0.05) f.$and = [{ $or: [{ brand: 'acme' }, { rank: { $gt: 1 } }] }];
    if (rnd() < 0.1) f.$text = { $search: pick(rnd, WORDS) + (rnd() < 0.3 ? ' ' + pick(rnd, WORDS) : '') + (rnd() < 0.2 ? ' -red' : '') };
    if (f.$text && rnd() < 0.2) f.$text.$language = 'none'; // not the index's language: no postings
    const sorts = [null, { min_price: 1, _id: 1 }, { min_price: -1, _id: -1 }, { created_at: -1, _id: -1 }, { min_price: 1 },
      { created_at: 1 }, { _id: -1 }, { _id: 1 }, { brand: 1, min_price: -1 }, { rank: -1 }, { rank: 1, _id: -1 }, { status: 1, min_price: 1 },
      { category_id: 1, min_price: 1 }, { 'variants.price': 1 }];
    let sort = pick(rnd, sorts);
    if (f.$text && rnd() < 0.5) sort = { score: { $meta: 'textScore' }, _id: 1 };
    return { filter: f, sort, skip: rnd() < 0.2 ? 2 : 0, limit: pick(rnd, [0, 0, 1, 3, 10]) };
  }
  // the reference: a collection scan of the view, the matcher, a stable sort
  function reference(view, q) {
    const { rest, scorer } = C.textPart(view, q.filter);
    const match = compileMatcher(rest);
    const scores = new Map();
    let docs = [];
    for (const d of view.scan()) {
      if (!match(d)) continue;
      if (scorer) { const s = scorer(d); if (!s) continue; scores.set(d, s); }
      docs.push(d);
    }
    const cmp = compileSort(q.sort, scorer ? (d) => scores.get(d) : null);
    if (cmp) docs.sort(cmp);
    if (q.skip) docs = docs.slice(q.skip);
    if (q.limit) docs = docs.slice(0, q.limit);
    return docs.map((d) => T.keyOf(d._id));
  }
  function setup(rnd, n) {
    const store = new Store({});
    const coll = store.coll('db', 'products', true);
    for (const raw of INDEXES) coll.addIndex(normalizeSpec(raw));
    for (let i = 0; i < n; i++) coll.commitWrite(T.keyOf(i), randomDoc(rnd, i), ++store.ts, false);
    return { store, coll };
  }
  function check(view, q, seen, label) {
    const got = C.runQuery(view, q.filter, { sort: q.sort, skip: q.skip, limit: q.limit });
    const want = reference(view, q);
    const ids = got.docs.map((d) => T.keyOf(d._id));
    assert.deepEqual(ids, want, `${label}: ${T.show(q.filter)} sort ${T.show(q.sort)} skip ${q.skip} limit ${q.limit} (plan ${got.plan.type} ${got.plan.ix ? got.plan.ix.name : ''})`);
    const cnt = C.runQuery(view, q.filter, { ordered: false }).docs.length;
    assert.equal(cnt, reference(view, { ...q, sort: null, skip: 0, limit: 0 }).length, label + ': count');
    seen.add(got.plan.type + ':' + (got.plan.ix ? got.plan.ix.name : '') + ':' + (got.plan.scanDir ? 'sorted' : ''));
  }

  // Random documents (mixed numeric types, ties, missing fields, arrays),
  // random queries of the project's shapes, interleaved with inserts,
  // updates and deletes (the indexes are maintained, never rebuilt).
  test('property: planner answer == collection scan + stable sort (random documents, writes, queries)', () => {
    const seen = new Set();
    for (const seed of [1, 2, 3, 4]) {
      const rnd = prng(seed);
      arrayPrices = seed > 2;
      const { store, coll } = setup(rnd, 120);
      const view = store.view('db', 'products', null, false);
      let next = 1000;
      for (let round = 0; round < 150; round++) {
        check(view, randomQuery(rnd), seen, `seed ${seed} round ${round}`);
        // a write between queries
        const w = rnd();
        const ids = [...coll.docs.keys()];
        if (w < 0.3) coll.commitWrite(T.keyOf(next), randomDoc(rnd, next++), ++store.ts, false);
        else if (w < 0.5 && ids.length) coll.commitWrite(pick(rnd, ids), null, ++store.ts, false);
        else if (w < 0.7 && ids.length) {
          // keys unchanged (an unindexed field) or one indexed field changed
          const k = pick(rnd, ids);
          const old = coll.docs.get(k).doc;
          const nd = rnd() < 0.5 ? { ...old, views: (old.views || 0) + 1 } : { ...old, rank: Math.floor(rnd() * 4) };
          coll.commitWrite(k, nd, ++store.ts, false);
        } else if (ids.length) {
          const k = pick(rnd, ids);
          const old = coll.docs.get(k).doc;
          coll.commitWrite(k, { ...randomDoc(rnd, old._id), slug: old.slug }, ++store.ts, false);
        }
      }
    }
    // the shapes above really were planned several ways
    const kinds = [...seen].join(' ');
    for (const k of ['COLLSCAN', 'IXSCAN:category_price:sorted', 'IXSCAN:visible_price:sorted', 'TEXT', 'OR', 'IXSCAN:_id_'])
      assert.ok(kinds.includes(k), `plan ${k} not exercised: ${kinds}`);
  });

  // the sort's ObjectId shortcut orders as the BSON comparison does
  test('sort keys: ObjectIds (and mixed types) order as compare()', () => {
    const rnd = prng(11);
    const vals = [];
    for (let i = 0; i < 300; i++) {
      const x = rnd();
      vals.push({ v: x < 0.7 ? new T.ObjectId(Math.floor(rnd() * 0xffffffff).toString(16).padStart(8, '0') + '0000000000000000') : x < 0.85 ? Math.floor(rnd() * 5) : 'k' + Math.floor(rnd() * 3) });
    }
    for (const dir of [1, -1]) {
      const want = vals.slice().sort((a, b) => T.compare(a.v, b.v) * dir);
      const got = vals.slice().sort(compileSort({ v: dir }));
      assert.deepEqual(got.map((d) => T.keyOf(d.v)), want.map((d) => T.keyOf(d.v)));
    }
  });

  // Inside a transaction: its snapshot plus its own writes (View.scan),
  // committed writes after the snapshot invisible, all through the planner.
  test('property: planner answer == scan inside a transaction (snapshot + own writes)', () => {
    for (const seed of [7, 8]) {
      const rnd = prng(seed);
      arrayPrices = seed > 7;
      const { store, coll } = setup(rnd, 80);
      const txn = { snapshotTs: store.ts, overlays: new Map(), state: 'inProgress', locks: new Set(), uniqueKeys: [] };
      store.txnOpened(txn);
      let next = 5000;
      // others commit after the snapshot (kept in history)
      for (let i = 0; i < 25; i++) {
        const ids = [...coll.docs.keys()];
        if (rnd() < 0.3) coll.commitWrite(pick(rnd, ids), null, ++store.ts, true);
        else if (rnd() < 0.5) coll.commitWrite(T.keyOf(next), randomDoc(rnd, next++), ++store.ts, true);
        else { const k = pick(rnd, ids); coll.commitWrite(k, randomDoc(rnd, coll.docs.get(k).doc._id), ++store.ts, true); }
      }
      // the transaction's own writes
      const ov = new Map();
      txn.overlays.set('db.products', ov);
      for (let i = 0; i < 20; i++) {
        const ids = [...coll.docs.keys()];
        if (rnd() < 0.3) ov.set(pick(rnd, ids), null);
        else if (rnd() < 0.5) ov.set(T.keyOf(next), randomDoc(rnd, next++));
        else { const k = pick(rnd, ids); ov.set(k, randomDoc(rnd, coll.docs.get(k).doc._id)); }
      }
      const view = store.view('db', 'products', txn, false);
      const seen = new Set();
      for (let round = 0; round < 120; round++) check(view, randomQuery(rnd), seen, `txn seed ${seed} round ${round}`);
      store.txnClosed(txn);
    }
  });
});

// Issue 16 over the wire: each plan shape pins its answer (order
// included) and the index explain names; writes keep the indexes current,
// in and outside transactions.
describe('query planner: plan shapes', { skip: skipReal }, () => {
  const A = new ObjectId('64b000000000000000000001'), B = new ObjectId('64b000000000000000000002'), Z = new ObjectId('64b000000000000000000009');
  let c;
  const L = (n) => Long.fromNumber(n);
  // inserted out of _id order on purpose: natural order != _id order
  const DOCS = [
    { _id: 5, slug: 'e', status: 'active', deleted_at: null, category_id: A, min_price: L(300), created_at: new Date(5000), title: 'blue linen shirt', variants: [{ sku: 'E1', options: { size: 'M' }, price: L(300) }] },
    { _id: 2, slug: 'b', status: 'active', deleted_at: null, category_id: B, min_price: L(100), created_at: new Date(2000), title: 'red shirt', variants: [{ sku: 'B1', options: { size: 'S' }, price: L(100) }, { sku: 'B2', options: { size: 'M' }, price: L(150) }] },
    { _id: 9, slug: 'i', status: 'draft', deleted_at: null, category_id: A, min_price: L(50), created_at: new Date(9000), title: 'shirt shirt shirt', variants: [] },
    { _id: 1, slug: 'a', status: 'active', deleted_at: null, category_id: A, min_price: L(300), created_at: new Date(1000), title: 'running shoe', variants: [{ sku: 'A1', options: { size: 'L' }, price: L(300) }] },
    { _id: 7, slug: 'g', status: 'active', deleted_at: new Date(1), category_id: B, min_price: L(200), created_at: new Date(7000), title: 'old shirt', variants: [{ sku: 'G1', options: { size: 'M' }, price: L(200) }] },
    { _id: 3, slug: 'c', status: 'active', deleted_at: null, category_id: Z, min_price: L(300), created_at: new Date(3000), title: 'cotton shirt blue', variants: [{ sku: 'C1', options: { size: 'M' }, price: L(300) }] },
    { _id: 4, slug: 'd', status: 'active', deleted_at: null, category_id: B, min_price: L(250), created_at: new Date(4000), title: 'shoe', variants: [{ sku: 'D1', options: { size: 'M' }, price: L(250) }] },
  ];
  before(async () => {
    c = await fresh('planned');
    await c.createIndexes([
      { key: { slug: 1 }, name: 'slug_unique', unique: true },
      { key: { 'variants.sku': 1 }, name: 'variants_sku_unique', unique: true },
      { key: { title: 'text' }, name: 'text_search' },
      { key: { status: 1, deleted_at: 1, created_at: -1, _id: -1 }, name: 'visible_newest' },
      { key: { status: 1, deleted_at: 1, min_price: 1, _id: 1 }, name: 'visible_price' },
      { key: { category_id: 1, status: 1, min_price: 1, _id: 1 }, name: 'category_price' },
      { key: { 'variants.options.size': 1 }, name: 'variant_size' },
    ]);
    for (const d of DOCS) await c.insertOne(d);
  });
  const ids = (docs) => docs.map((d) => d._id);
  async function planOf(find) {
    const r = await db.command({ explain: { find: 'planned', ...find }, verbosity: 'executionStats' });
    let st = r.queryPlanner.winningPlan;
    const stages = [];
    while (st) { stages.push(st.stage + (st.indexName ? ':' + st.indexName : '') + (st.direction === 'backward' ? ':backward' : '')); st = st.inputStage || (st.inputStages && st.inputStages[0]); }
    return { stages: stages.join(' > '), stats: r.executionStats };
  }
  async function shape(find, wantIds, wantPlan) {
    const opts = { sort: find.sort, skip: find.skip, limit: find.limit };
    assert.deepEqual(ids(await c.find(find.filter, opts).toArray()), wantIds, T(find));
    const p = await planOf(find);
    assert.equal(p.stages, wantPlan, T(find));
    return p;
  }
  const T = (x) => JSON.stringify(x);

  // equality prefix ($in on the first key, equality on the second), sort on
  // the next key: runs merged in sort order, limit pushed into the scan
  test('$in + equality prefix, sort on the next key (merged runs, limit in the scan)', async () => {
    const p = await shape({ filter: { category_id: { $in: [A, B] }, status: 'active' }, sort: { min_price: 1, _id: 1 }, limit: 3 },
      [2, 7, 4], 'LIMIT > FETCH > IXSCAN:category_price');
    assert.ok(p.stats.totalDocsExamined <= 4, 'the scan stopped after the limit: ' + p.stats.totalDocsExamined);
    await shape({ filter: { category_id: { $in: [A, B] }, status: 'active' }, sort: { min_price: -1, _id: -1 } },
      [5, 1, 4, 7, 2], 'FETCH > IXSCAN:category_price:backward');
    await shape({ filter: { category_id: { $in: [A, B] }, status: 'active' }, sort: { min_price: 1, _id: 1 }, skip: 2, limit: 2 },
      [4, 1], 'LIMIT > FETCH > IXSCAN:category_price');
  });
  test('equality prefix + range on the next key, sorted by it', async () => {
    await shape({ filter: { status: 'active', deleted_at: null, min_price: { $gte: L(100), $lt: L(300) } }, sort: { min_price: 1, _id: 1 } },
      [2, 4], 'FETCH > IXSCAN:visible_price');
    await shape({ filter: { status: 'active', deleted_at: null }, sort: { created_at: -1, _id: -1 }, limit: 2 },
      [5, 4], 'LIMIT > FETCH > IXSCAN:visible_newest');
  });
  // ties under the sort come out in natural (insertion) order, with any plan
  test('ties under the sort: natural order, index or collection scan', async () => {
    await shape({ filter: { status: 'active', deleted_at: null }, sort: { min_price: -1 } }, [5, 1, 3, 4, 2], 'FETCH > IXSCAN:visible_price:backward');
    assert.deepEqual(ids(await c.find({ title: { $exists: true }, status: 'active' }).sort({ min_price: -1 }).toArray()), [5, 1, 3, 4, 7, 2]);
    assert.deepEqual(ids(await c.aggregate([{ $match: { category_id: { $in: [A, Z] }, status: 'active' } }, { $sort: { min_price: -1 } }, { $limit: 2 }]).toArray()), [5, 1]);
  });
  test('multikey index over an array field (no sort from it), natural order', async () => {
    await shape({ filter: { variants: { $elemMatch: { 'options.size': 'M' } } } }, [5, 2, 7, 3, 4], 'FETCH > IXSCAN:variant_size');
    await shape({ filter: { 'variants.options.size': { $in: ['S', 'L'] } } }, [2, 1], 'FETCH > IXSCAN:variant_size');
  });
  test('unique point lookups, $in on _id, $or of two indexes', async () => {
    await shape({ filter: { slug: 'd' } }, [4], 'FETCH > IXSCAN:slug_unique');
    await shape({ filter: { 'variants.sku': 'B2' } }, [2], 'FETCH > IXSCAN:variants_sku_unique');
    await shape({ filter: { _id: { $in: [4, 9, 1, 8] } } }, [9, 1, 4], 'FETCH > IXSCAN:_id_');
    await shape({ filter: { status: 'active', $or: [{ _id: 3 }, { slug: 'b' }] } }, [2, 3], 'FETCH > OR > IXSCAN:_id_');
    await shape({ filter: { title: 'shoe' } }, [4], 'COLLSCAN');
  });
  test('$text from the text index, sorted by textScore then _id', async () => {
    const r = await c.find({ $text: { $search: 'shirt' } }, { projection: { s: { $meta: 'textScore' } } }).sort({ s: { $meta: 'textScore' }, _id: 1 }).toArray();
    assert.deepEqual(ids(r), [9, 2, 7, 3, 5]);
    const p = await planOf({ filter: { $text: { $search: 'shirt' } }, sort: { s: { $meta: 'textScore' } } });
    assert.match(p.stages, /^SORT > TEXT_MATCH > TEXT_OR:text_search$/);
    assert.equal(p.stats.totalDocsExamined, 5, 'only the documents holding the term were read');
  });
  // the search's aggregate: $match $text, $addFields {_score: textScore},
  // $sort {_score: -1, _id: 1}, $limit: the sort and limit go into the query
  test('aggregate: a $text search sorted by its $addFields textScore', async () => {
    const pipe = (extra) => [{ $match: { $text: { $search: 'shirt blue' }, status: 'active' } }, { $addFields: { _score: { $meta: 'textScore' } } },
      { $sort: { _score: -1, _id: 1 } }, ...extra];
    const all = await c.aggregate(pipe([])).toArray();
    assert.deepEqual(ids(all), [3, 5, 2, 7]);
    assert.deepEqual(all.map((d) => d._score), [4 / 3, 4 / 3, 0.75, 0.75], "ties: _id breaks them");
    assert.deepEqual(ids(await c.aggregate(pipe([{ $limit: 2 }])).toArray()), [3, 5]);
    assert.deepEqual(ids(await c.aggregate(pipe([{ $skip: 1 }, { $limit: 2 }])).toArray()), [5, 2]);
    assert.deepEqual((await c.aggregate(pipe([{ $limit: 3 }, { $project: { _id: 1, _score: 1 } }])).toArray()).map((d) => d._score), all.slice(0, 3).map((d) => d._score));
    // ascending score: not the query's textScore order; same answer through the stages
    const up = await c.aggregate([{ $match: { $text: { $search: 'shirt blue' }, status: 'active' } }, { $addFields: { _score: { $meta: 'textScore' } } },
      { $sort: { _score: 1, _id: 1 } }, { $limit: 1 }]).toArray();
    assert.equal(up[0]._id, 2);
  });
  // the aggregate the public list sends: $match, [$match cursor], $sort, $limit
  test('aggregate: leading $match + $sort + $limit use the index; a cursor $match is merged', async () => {
    const pipe = [{ $match: { status: 'active', deleted_at: null, category_id: { $in: [A, Z] } } },
      { $match: { $or: [{ min_price: { $gt: L(250) } }, { min_price: L(250), _id: { $gt: 4 } }] } },
      { $sort: { min_price: 1, _id: 1 } }, { $limit: 2 }];
    assert.deepEqual(ids(await c.aggregate(pipe).toArray()), [1, 3]);
    const r = await db.command({ explain: { aggregate: 'planned', pipeline: pipe, cursor: {} }, verbosity: 'queryPlanner' });
    assert.equal(r.queryPlanner.winningPlan.inputStage.inputStage.indexName, 'category_price');
  });
  test('writes keep the indexes current (update, findAndModify, delete, re-insert)', async () => {
    const u = await fresh('planned_w');
    await u.createIndex({ k: 1, n: 1 });
    await u.insertMany([{ _id: 1, k: 'a', n: 3 }, { _id: 2, k: 'a', n: 1 }, { _id: 3, k: 'b', n: 2 }]);
    await u.updateOne({ k: 'a' }, { $set: { n: 9 } }); // the first in natural order: _id 1
    assert.deepEqual(ids(await u.find({ k: 'a' }).sort({ n: 1 }).toArray()), [2, 1]);
    const fam = await u.findOneAndUpdate({ k: 'a' }, { $set: { k: 'b' } }, { sort: { n: 1 }, returnDocument: 'after' });
    assert.equal(fam._id, 2);
    assert.deepEqual(ids(await u.find({ k: 'b' }).sort({ n: -1 }).toArray()), [3, 2]);
    await u.deleteOne({ k: 'b', n: { $gte: 2 } });
    assert.deepEqual(ids(await u.find({ k: 'b' }).sort({ n: 1 }).toArray()), [2]);
    await u.insertOne({ _id: 3, k: 'b', n: 1 });
    assert.deepEqual(ids(await u.find({ k: 'b' }).sort({ n: 1 }).toArray()), [2, 3], 'tie: the re-inserted document is last in natural order');
    assert.equal(await u.countDocuments({ k: 'b', n: { $lte: 1 } }), 2);
    assert.equal((await db.command({ count: 'planned_w', query: { k: 'a' } })).n, 1);
  });
  test('in a transaction: its own writes through the index, nothing after abort, all after commit', async () => {
    const t = await fresh('planned_t');
    await t.createIndex({ g: 1, v: 1 });
    await t.insertMany([{ _id: 1, g: 1, v: 5 }, { _id: 2, g: 1, v: 3 }, { _id: 3, g: 2, v: 1 }]);
    const s = client.startSession();
    const q = () => t.find({ g: 1 }, { session: s }).sort({ v: 1 }).toArray();
    for (const end of ['abort', 'commit']) {
      s.startTransaction();
      await t.insertOne({ _id: 10, g: 1, v: 4 }, { session: s });
      await t.updateOne({ _id: 3 }, { $set: { g: 1 } }, { session: s });
      await t.deleteOne({ _id: 2 }, { session: s });
      assert.deepEqual(ids(await q()), [3, 10, 1], 'the transaction sees its writes');
      assert.deepEqual(ids(await t.find({ g: 1 }).sort({ v: 1 }).toArray()), [2, 1], 'others do not');
      if (end === 'abort') {
        await s.abortTransaction();
        assert.deepEqual(ids(await t.find({ g: 1 }).sort({ v: 1 }).toArray()), [2, 1]);
        assert.deepEqual(ids(await t.find({ g: 2 }).toArray()), [3]);
      } else {
        await s.commitTransaction();
        assert.deepEqual(ids(await t.find({ g: 1 }).sort({ v: 1 }).toArray()), [3, 10, 1]);
        assert.deepEqual(ids(await t.find({ g: 2 }).toArray()), []);
      }
    }
    await s.endSession();
  });
  // the job claim (src/jobs/runner.c): $or of two status branches, each on
  // its own compound index (equality + range), sorted by run_after
  test('job claim: $or of equality + range branches, each on its index, sorted', async () => {
    const j = await fresh('planned_jobs');
    await j.createIndexes([{ key: { status: 1, run_after: 1 }, name: 'status_run_after' }, { key: { status: 1, lease_until: 1 }, name: 'status_lease_until' }]);
    const at = (s) => new Date(1700000000000 + s * 1000);
    await j.insertMany([
      { _id: 1, status: 'pending', run_after: at(30) }, { _id: 2, status: 'running', run_after: at(5), lease_until: at(8) },
      { _id: 3, status: 'pending', run_after: at(10) }, { _id: 4, status: 'running', run_after: at(1), lease_until: at(50) },
      { _id: 5, status: 'done', run_after: at(0) }, { _id: 6, status: 'pending', run_after: at(10) }]);
    const filter = { $or: [{ status: 'pending', run_after: { $lte: at(20) } }, { status: 'running', lease_until: { $lt: at(20) } }] };
    assert.deepEqual(ids(await j.find(filter).sort({ run_after: 1 }).toArray()), [2, 3, 6]);
    const r = await db.command({ explain: { find: 'planned_jobs', filter, sort: { run_after: 1 }, limit: 1 }, verbosity: 'queryPlanner' });
    const or = r.queryPlanner.winningPlan.inputStage.inputStage;
    assert.equal(or.stage, 'OR');
    assert.deepEqual(or.inputStages.map((x) => x.indexName), ['status_run_after', 'status_lease_until']);
    const claimed = await j.findOneAndUpdate(filter, { $set: { status: 'running', lease_until: at(99) } }, { sort: { run_after: 1 }, returnDocument: 'after' });
    assert.equal(claimed._id, 2);
    assert.deepEqual(ids(await j.find(filter).sort({ run_after: 1 }).toArray()), [3, 6]);
  });
  // --enable-test-commands: the plan log an integration test reads
  test('standinQueryPlans records each query\'s plan', async () => {
    const admin = client.db('admin');
    await admin.command({ standinQueryPlans: 1, record: true, clear: true });
    await c.find({ slug: 'a' }).toArray();
    await c.aggregate([{ $match: { category_id: A, status: 'active' } }, { $sort: { min_price: 1, _id: 1 } }, { $limit: 1 }]).toArray();
    const r = await admin.command({ standinQueryPlans: 1, record: false });
    const mine = r.plans.filter((p) => p.ns === 'standin_node_compat.planned');
    assert.deepEqual(mine.map((p) => [p.op, p.stage, p.indexName]), [['find', 'IXSCAN', 'slug_unique'], ['aggregate', 'IXSCAN', 'category_price']]);
    assert.equal(mine[1].nReturned, 1);
    assert.equal((await admin.command({ standinQueryPlans: 1 })).recording, false);
    await expectCode(db.command({ standinQueryPlans: 1 }), 13);
  });
});

describe('unix domain socket', { skip: skipReal }, () => {
  // mongod also listens on /tmp/mongodb-PORT.sock; drivers take the path
  // percent-encoded as the host.
  test('--unix-socket PATH: the same server over a unix socket', async () => {
    const p = path.join(os.tmpdir(), `standin-${process.pid}-${Date.now()}.sock`);
    const sv = await startStandin(['--repl-set', 'rs0', '--unix-socket', p]);
    try {
      assert.equal(fs.statSync(p).isSocket(), true);
      assert.equal(fs.statSync(p).mode & 0o777, 0o700);
      const u = await connect(`mongodb://${encodeURIComponent(p)}/?directConnection=true`);
      const t = await connect(`mongodb://127.0.0.1:${sv.port}/?directConnection=true`);
      await u.db('x').collection('a').insertOne({ _id: 1, via: 'unix' });
      assert.equal((await t.db('x').collection('a').findOne({ _id: 1 })).via, 'unix', 'one server behind both listeners');
      await u.close(); await t.close();
    } finally { await sv.stop(); }
    assert.equal(fs.existsSync(p), false, 'the socket file is removed at exit');
  });
});
