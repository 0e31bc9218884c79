'use strict';
// Compatibility cases for the aggregation the reports use (src/reports):
// $dateTrunc in a time zone (day, ISO week, month; DST edges), grouping by
// it with exact int64 sums, $lookup by a local/foreign field (arrays and
// missing values), $facet, $unwind, a descending sort on a multikey field,
// $dateToString in a zone. Each case states what real MongoDB (5.0+) does;
// the stand-in must do the same. Runs against MONGODB_URI (a real replica
// set) or STANDIN_RS_URI (set by run.sh).
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const { Long, Int32, Double } = require('mongodb');
const { connect } = require('./helpers');

const URI = process.env.MONGODB_URI || process.env.STANDIN_RS_URI;
const RAW = { promoteLongs: false, promoteValues: false };
let client, db;

before(async () => {
  if (!URI) throw new Error('set STANDIN_RS_URI or MONGODB_URI (use test/run.sh)');
  client = await connect(URI);
  db = client.db('standin_node_compat_aggregate');
  await db.dropDatabase();
});
after(async () => { if (client) await client.close(); });

async function fresh(name, docs) {
  await db.collection(name).drop().catch(() => {});
  const c = db.collection(name);
  if (docs && docs.length) await c.insertMany(docs);
  return c;
}

const iso = (d) => d.toISOString();

describe('$dateTrunc in a time zone', () => {
  test('day in Asia/Dhaka (UTC+6): 18:30Z belongs to the next local day', async () => {
    const c = await fresh('trunc_day', [
      { _id: 1, t: new Date('2026-11-30T17:59:59.999Z') },
      { _id: 2, t: new Date('2026-11-30T18:00:00.000Z') },
      { _id: 3, t: new Date('2026-11-30T18:30:00.000Z') },
    ]);
    const out = await c.aggregate([
      { $project: { d: { $dateTrunc: { date: '$t', unit: 'day', timezone: 'Asia/Dhaka' } } } },
      { $sort: { _id: 1 } },
    ]).toArray();
    assert.deepEqual(out.map((o) => iso(o.d)), ['2026-11-29T18:00:00.000Z', '2026-11-30T18:00:00.000Z', '2026-11-30T18:00:00.000Z']);
  });

  test('day in Europe/Berlin across both DST changes (23 h and 25 h days)', async () => {
    const c = await fresh('trunc_dst', [
      { _id: 1, t: new Date('2026-03-29T21:59:00Z') }, // 23:59 CEST, 29 March (23 h day)
      { _id: 2, t: new Date('2026-03-29T22:00:00Z') }, // 00:00 CEST, 30 March
      { _id: 3, t: new Date('2026-10-25T22:59:00Z') }, // 23:59 CET, 25 October (25 h day)
      { _id: 4, t: new Date('2026-10-24T22:00:00Z') }, // 00:00 CEST, 25 October
    ]);
    const out = await c.aggregate([
      { $project: { d: { $dateTrunc: { date: '$t', unit: 'day', timezone: 'Europe/Berlin' } } } },
      { $sort: { _id: 1 } },
    ]).toArray();
    assert.deepEqual(out.map((o) => iso(o.d)), ['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', '2026-10-24T22:00:00.000Z', '2026-10-24T22:00:00.000Z']);
  });

  test('week starting on Monday and month, in a zone', async () => {
    const c = await fresh('trunc_week', [
      { _id: 1, t: new Date('2026-12-02T10:00:00Z') }, // Wednesday
      { _id: 2, t: new Date('2026-11-29T18:30:00Z') }, // Monday 00:30 in Dhaka
      { _id: 3, t: new Date('2026-11-29T17:30:00Z') }, // Sunday 23:30 in Dhaka
    ]);
    const out = await c.aggregate([
      { $project: {
        w: { $dateTrunc: { date: '$t', unit: 'week', timezone: 'Asia/Dhaka', startOfWeek: 'monday' } },
        s: { $dateTrunc: { date: '$t', unit: 'week', timezone: 'Asia/Dhaka' } },
        m: { $dateTrunc: { date: '$t', unit: 'month', timezone: 'Asia/Dhaka' } },
      } },
      { $sort: { _id: 1 } },
    ]).toArray();
    assert.deepEqual(out.map((o) => iso(o.w)), ['2026-11-29T18:00:00.000Z', '2026-11-29T18:00:00.000Z', '2026-11-22T18:00:00.000Z']);
    // the default week starts on Sunday
    assert.deepEqual(out.map((o) => iso(o.s)), ['2026-11-28T18:00:00.000Z', '2026-11-28T18:00:00.000Z', '2026-11-28T18:00:00.000Z']);
    // 2026-11-29T18:30Z is already 30 November in Dhaka
    assert.deepEqual(out.map((o) => iso(o.m)), ['2026-11-30T18:00:00.000Z', '2026-10-31T18:00:00.000Z', '2026-10-31T18:00:00.000Z']);
  });

  test('month in Europe/Berlin starts at the local midnight of the 1st (CET or CEST)', async () => {
    const c = await fresh('trunc_month', [
      { _id: 1, t: new Date('2026-03-15T10:00:00Z') },
      { _id: 2, t: new Date('2026-04-15T10:00:00Z') },
      { _id: 3, t: new Date('2026-03-31T22:30:00Z') }, // 00:30 CEST, 1 April
    ]);
    const out = await c.aggregate([
      { $project: { m: { $dateTrunc: { date: '$t', unit: 'month', timezone: 'Europe/Berlin' } } } },
      { $sort: { _id: 1 } },
    ]).toArray();
    assert.deepEqual(out.map((o) => iso(o.m)), ['2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z', '2026-03-31T22:00:00.000Z']);
  });

  test('a missing date gives null; an unknown zone is an error', async () => {
    const c = await fresh('trunc_null', [{ _id: 1 }]);
    const out = await c.aggregate([{ $project: { d: { $dateTrunc: { date: '$t', unit: 'day', timezone: 'Asia/Dhaka' } } } }]).toArray();
    assert.equal(out[0].d, null);
    await fresh('trunc_bad', [{ _id: 1, t: new Date() }]);
    await assert.rejects(db.collection('trunc_bad').aggregate([{ $project: { d: { $dateTrunc: { date: '$t', unit: 'day', timezone: 'Mars/Olympus' } } } }]).toArray(),
      (e) => e.code === 40485);
  });

  test('$dateToString in a zone', async () => {
    const c = await fresh('tostring', [{ _id: 1, t: new Date('2026-11-30T18:30:00Z') }]);
    const out = await c.aggregate([{ $project: { s: { $dateToString: { date: '$t', format: '%Y-%m-%d %H:%M', timezone: 'Asia/Dhaka' } } } }]).toArray();
    assert.equal(out[0].s, '2026-12-01 00:30');
  });
});

describe('grouping sales by bucket', () => {
  test('$group by $dateTrunc keeps int64 sums exact; $sum: 1 is an int32', async () => {
    const big = Long.fromString('4611686018427387904'); // 2^62
    const c = await fresh('sales', [
      { _id: 1, t: new Date('2026-11-30T18:30:00Z'), amount: big, lines: [{ q: Long.fromNumber(2) }, { q: Long.fromNumber(3) }] },
      { _id: 2, t: new Date('2026-12-01T10:00:00Z'), amount: Long.fromNumber(7), lines: [{ q: Long.fromNumber(1) }] },
      { _id: 3, t: new Date('2026-11-30T10:00:00Z'), amount: Long.fromNumber(5), lines: [] },
    ]);
    const out = await c.aggregate([
      { $group: {
        _id: { $dateTrunc: { date: '$t', unit: 'day', timezone: 'Asia/Dhaka' } },
        amount: { $sum: '$amount' }, n: { $sum: 1 }, units: { $sum: { $sum: '$lines.q' } },
      } },
      { $sort: { _id: 1 } },
    ], RAW).toArray();
    assert.equal(out.length, 2);
    assert.equal(iso(out[0]._id), '2026-11-29T18:00:00.000Z');
    assert.ok(out[0].amount instanceof Long && out[0].amount.toString() === '5');
    assert.ok(out[1].amount instanceof Long && out[1].amount.toString() === '4611686018427387911');
    assert.ok(out[1].n instanceof Int32 && out[1].n.value === 2);
    assert.ok(out[1].units instanceof Long && out[1].units.toString() === '6');
  });

  test('an int64 $sum that overflows turns into a double (what a report must refuse)', async () => {
    const c = await fresh('overflow', [
      { _id: 1, a: Long.fromString('9223372036854775807') },
      { _id: 2, a: Long.fromNumber(1) },
    ]);
    const out = await c.aggregate([{ $group: { _id: null, s: { $sum: '$a' } } }], RAW).toArray();
    assert.ok(out[0].s instanceof Double, `got ${out[0].s && out[0].s.constructor.name}`);
  });
});

describe('$lookup, $facet, $unwind, multikey sort', () => {
  test('$lookup by localField/foreignField: each match, in the foreign order; missing matches missing', async () => {
    await fresh('lk_orders', [
      { _id: 10, user: 'a', total: 1 },
      { _id: 11, user: 'b', total: 2 },
      { _id: 12, total: 3 },
      { _id: 13, user: 'a', total: 4 },
    ]);
    const pays = await fresh('lk_pays', [
      { _id: 1, order_id: 11 },
      { _id: 2, order_id: [10, 13] },
      { _id: 3 },
      { _id: 4, order_id: 99 },
    ]);
    const out = await pays.aggregate([
      { $lookup: { from: 'lk_orders', localField: 'order_id', foreignField: '_id', as: 'o' } },
      { $sort: { _id: 1 } },
    ]).toArray();
    assert.deepEqual(out.map((d) => d.o.map((o) => o._id)), [[11], [10, 13], [], []]);
    const byUser = await db.collection('lk_orders').aggregate([
      { $lookup: { from: 'lk_orders', localField: 'user', foreignField: 'user', as: 'same' } },
      { $project: { n: { $size: '$same' } } },
      { $sort: { _id: 1 } },
    ]).toArray();
    // a missing localField matches the documents whose foreignField is missing
    assert.deepEqual(byUser.map((d) => d.n), [2, 1, 1, 2]);
  });

  test('$facet over $unwind: per-key counts and a sorted, limited list', async () => {
    const c = await fresh('facet', [
      { _id: 1, title: 'A', variants: [{ sku: 'a1', stock: Long.fromNumber(0) }, { sku: 'a2', stock: Long.fromNumber(9) }] },
      { _id: 2, title: 'B', variants: [{ sku: 'b1', stock: Long.fromNumber(2) }] },
      { _id: 3, title: 'C', variants: [] },
    ]);
    const out = await c.aggregate([
      { $unwind: '$variants' },
      { $match: { 'variants.stock': { $lte: 2 } } },
      { $project: { _id: 0, sku: '$variants.sku', stock: '$variants.stock', state: { $cond: [{ $lte: ['$variants.stock', 0] }, 'out', 'low'] } } },
      { $facet: {
        counts: [{ $group: { _id: '$state', n: { $sum: 1 } } }, { $sort: { _id: 1 } }],
        items: [{ $sort: { stock: 1, sku: 1 } }, { $limit: 1 }],
      } },
    ]).toArray();
    assert.equal(out.length, 1);
    assert.deepEqual(out[0].counts, [{ _id: 'low', n: 1 }, { _id: 'out', n: 1 }]);
    assert.deepEqual(out[0].items, [{ sku: 'a1', stock: 0, state: 'out' }]);
  });

  test('a descending sort on a multikey field orders by each document\'s largest value', async () => {
    const c = await fresh('events', [
      { _id: 1, events: [{ at: new Date('2026-01-01') }, { at: new Date('2026-01-05') }] },
      { _id: 2, events: [{ at: new Date('2026-01-03') }] },
      { _id: 3, events: [{ at: new Date('2026-01-02') }, { at: new Date('2026-01-04') }] },
    ]);
    await c.createIndex({ 'events.at': -1 });
    const out = await c.aggregate([
      { $match: { 'events.at': { $gte: new Date('2026-01-01') } } },
      { $sort: { 'events.at': -1 } },
      { $limit: 2 },
      { $unwind: '$events' },
      { $sort: { 'events.at': -1, _id: -1 } },
      { $limit: 3 },
      { $project: { at: '$events.at' } },
    ]).toArray();
    assert.deepEqual(out.map((d) => [d._id, iso(d.at).slice(0, 10)]), [[1, '2026-01-05'], [3, '2026-01-04'], [3, '2026-01-02']]);
  });

  test('aggregate takes maxTimeMS', async () => {
    const c = await fresh('maxtime', [{ _id: 1 }]);
    const out = await c.aggregate([{ $match: {} }], { maxTimeMS: 5000 }).toArray();
    assert.equal(out.length, 1);
  });
});
