'use strict';
// Query planner: picks how a filter is answered, the way MongoDB's planner
// would for the shapes Emporium sends, and runs it.
//
// Plans:
//  - IXSCAN over one index: equality/$in points on a prefix of its fields
//    (a run per combination), then an optional range on the next field.
//    When the sort is the index order after that prefix (either direction,
//    no multikey sort field), the runs are merged in sort order and the scan
//    stops once skip+limit documents are found (limit pushed into the scan).
//  - OR: a top-level $or whose every branch has an index: union of the
//    branches' scans.
//  - TEXT: $text answers from the text index's postings (a document can
//    match only if it holds one of the positive terms).
//  - COLLSCAN otherwise.
// The index only chooses candidates: every candidate is checked with the
// full matcher, so a plan can never add a document, and the bounds are
// built only from predicates whose matches all have an entry in the bounds.
//
// Answers never depend on the plan: the result is always the matching
// documents ordered by the sort and then by natural order (the order a
// collection scan meets them), i.e. exactly what a collection scan followed
// by a stable sort gives. Ties under the sort come out in natural order.
const T = require('./types');
const { compare, typeRank, keyOf, isDocument, numKind, toNumber } = T;

const MAX_RUNS = 200;

const isRegex = (v) => v instanceof RegExp || (v && v._bsontype === 'BSONRegExp');

// Values an index point lookup can stand for (compare() == 0 <=> the
// matcher's equality for these).
function pointOk(v, field) {
  if (v === null) return !field.includes('.'); // dotted null matches missing array elements: no bound
  switch (typeof v) {
    case 'string': case 'boolean': return true;
    case 'number': return !Number.isNaN(v);
    case 'bigint': return true;
  }
  if (v instanceof Date) return !Number.isNaN(v.getTime());
  if (!v || typeof v !== 'object') return false;
  switch (v._bsontype) {
    case 'ObjectId': case 'Int32': case 'Long': return true;
    case 'Double': return !Number.isNaN(v.valueOf());
  }
  return false;
}
const rangeOk = (v) => v !== null && pointOk(v, '');

// Predicates of a filter usable as index bounds: Map field -> [{pts}|{lo,hi}].
function collectPreds(filter, prefix, out) {
  if (!isDocument(filter)) return out;
  for (const k of Object.keys(filter)) {
    const v = filter[k];
    if (k === '$and') { if (Array.isArray(v)) for (const s of v) collectPreds(s, prefix, out); continue; }
    if (k[0] === '$') continue;
    const field = prefix ? prefix + '.' + k : k;
    const add = (p) => { let l = out.get(field); if (!l) out.set(field, (l = [])); l.push(p); };
    if (isRegex(v) || Array.isArray(v)) continue;
    if (isDocument(v)) {
      const ks = Object.keys(v);
      if (!ks.length || ks[0][0] !== '$') continue; // embedded document equality
      for (const op of ks) {
        const x = v[op];
        if (op === '$eq') { if (pointOk(x, field)) add({ pts: [x] }); } else if (op === '$in') {
          if (Array.isArray(x) && x.length && x.every((e) => pointOk(e, field))) add({ pts: x });
        } else if (op === '$gt' || op === '$gte') {
          if (rangeOk(x)) add({ lo: { v: x, incl: op === '$gte' }, hi: null, rank: typeRank(x) });
        } else if (op === '$lt' || op === '$lte') {
          if (rangeOk(x)) add({ lo: null, hi: { v: x, incl: op === '$lte' }, rank: typeRank(x) });
        } else if (op === '$elemMatch') {
          if (isDocument(x) && Object.keys(x).length && Object.keys(x).every((s) => s[0] !== '$' || s === '$and')) collectPreds(x, field, out);
        }
      }
      continue;
    }
    if (pointOk(v, field)) add({ pts: [v] });
  }
  return out;
}

function dedupPoints(pts) {
  const seen = new Map();
  for (const p of pts) { const k = keyOf(p); if (!seen.has(k)) seen.set(k, p); }
  return [...seen.values()];
}

// Where a value lies against an interval {lo, hi, rank} (lo/hi null: the
// end of the type bracket; range operators never cross brackets).
function belowIv(x, iv) {
  const r = typeRank(x);
  if (r !== iv.rank) return r < iv.rank;
  if (!iv.lo) return false;
  const c = compare(x, iv.lo.v);
  return c < 0 || (c === 0 && !iv.lo.incl);
}
function aboveIv(x, iv) {
  const r = typeRank(x);
  if (r !== iv.rank) return r > iv.rank;
  if (!iv.hi) return false;
  const c = compare(x, iv.hi.v);
  return c > 0 || (c === 0 && !iv.hi.incl);
}

// One scan range of an index: prefix points P on fields 0..p-1, an optional
// interval iv on field p. Returns {before, after}: before(e) = e sorts
// before the range, after(e) = e sorts after it (index order; both monotone).
function runBounds(ix, P, iv) {
  const p = P.length, dirs = ix.dirs;
  const prefixCmp = (e) => {
    for (let i = 0; i < p; i++) { const c = compare(e.k[i], P[i]); if (c) return c * dirs[i]; }
    return 0;
  };
  const up = !iv || dirs[p] > 0;
  return {
    before: (e) => { const c = prefixCmp(e); if (c) return c < 0; return iv ? (up ? belowIv(e.k[p], iv) : aboveIv(e.k[p], iv)) : false; },
    after: (e) => { const c = prefixCmp(e); if (c) return c > 0; return iv ? (up ? aboveIv(e.k[p], iv) : belowIv(e.k[p], iv)) : false; },
  };
}

function intervalFor(list, multikey) {
  const ranges = list.filter((p) => !p.pts);
  if (!ranges.length) return null;
  let iv = { lo: ranges[0].lo, hi: ranges[0].hi, rank: ranges[0].rank };
  if (multikey) return iv; // {a: {$gt: 1, $lt: 5}} on an array may match through two elements
  for (const r of ranges.slice(1)) {
    if (r.rank !== iv.rank) continue;
    if (r.lo && (!iv.lo || compare(r.lo.v, iv.lo.v) > 0 || (compare(r.lo.v, iv.lo.v) === 0 && !r.lo.incl))) iv.lo = r.lo;
    if (r.hi && (!iv.hi || compare(r.hi.v, iv.hi.v) < 0 || (compare(r.hi.v, iv.hi.v) === 0 && !r.hi.incl))) iv.hi = r.hi;
  }
  return iv;
}

// The sort keys as [{f, dir}] or null when the sort has a $meta key.
function sortKeys(sort) {
  if (!sort) return [];
  const out = [];
  for (const [f, v] of Object.entries(sort)) {
    if (!numKind(v)) return null;
    out.push({ f, dir: toNumber(v) });
  }
  return out;
}

// Build an index plan for preds, or null when the index bounds nothing
// (and gives no wanted order).
function indexPlan(ix, preds, skeys) {
  const n = ix.fields.length;
  let runs = [[]];
  let p = 0;
  for (; p < n; p++) {
    const list = preds.get(ix.fields[p]);
    const ptsList = list && list.filter((x) => x.pts);
    if (!ptsList || !ptsList.length) break;
    let best = null;
    for (const x of ptsList) { const d = dedupPoints(x.pts); if (!best || d.length < best.length) best = d; }
    if (runs.length * best.length > MAX_RUNS) break;
    const next = [];
    for (const r of runs) for (const v of best) next.push([...r, v]);
    runs = next;
  }
  const iv = p < n && preds.get(ix.fields[p]) ? intervalFor(preds.get(ix.fields[p]), ix.multi[p] > 0) : null;
  // order given by the scan
  let scanDir = 0;
  if (skeys && skeys.length) {
    scanDir = 1;
    let ok = true, ratio = 0, j = p;
    for (const { f, dir } of skeys) {
      const at = ix.fields.indexOf(f);
      if (at >= 0 && at < p) { if (ix.multi[at] > 0) ok = false; continue; }
      if (j >= n || ix.fields[j] !== f || ix.multi[j] > 0) { ok = false; break; }
      const r = dir * ix.dirs[j];
      if (ratio && r !== ratio) { ok = false; break; }
      ratio = r; j++;
    }
    if (!ok) scanDir = 0; else if (ratio) scanDir = ratio;
  }
  if (!p && !iv && !scanDir) return null;
  const bounds = runs.map((P) => runBounds(ix, P, iv));
  return { type: 'IXSCAN', ix, runs, iv, bounds, count: 0, scanDir, bounded: p > 0 || !!iv };
}

// SortedList.seek(pred) returns the first e with !pred(e): a run starts at
// the first entry not before it and ends at the first entry after it.
function runEnd(ix, b) { return ix.entries.seek((e) => !b.after(e)); }
function runStart(ix, b) { return ix.entries.seek(b.before); }

function countRun(ix, b) { return ix.entries.rank(runEnd(ix, b)) - ix.entries.rank(runStart(ix, b)); }

// Entries of one run in scan direction.
function* scanRun(ix, b, dir) {
  if (dir >= 0) {
    for (const e of ix.entries.walk(runStart(ix, b), 1)) { if (b.after(e)) return; yield e; }
  } else {
    for (const e of ix.entries.walk(runEnd(ix, b), -1)) { if (b.before(e)) return; yield e; }
  }
}

// A unique index with a point on every field (one run): at most one
// document, no better plan exists (mongod short-cuts these as well).
function uniquePointPlan(coll, preds, skeys) {
  for (const ix of coll.indexes) {
    if (!ix.usable || !(ix.unique || ix.name === '_id_')) continue;
    if (!ix.fields.every((f) => { const l = preds.get(f); return l && l.some((x) => x.pts && dedupPoints(x.pts).length === 1); })) continue;
    const pl = indexPlan(ix, preds, skeys);
    if (!pl || pl.runs.length !== 1 || pl.runs[0].length !== ix.fields.length) continue;
    pl.count = 1; // at most one document: no need to count
    pl.cost = 1;
    return pl;
  }
  return null;
}

function bestIndexPlan(coll, preds, skeys, need) {
  const up = uniquePointPlan(coll, preds, skeys);
  if (up) return up;
  let best = null;
  const plans = [];
  for (const ix of coll.indexes) {
    if (!ix.usable) continue;
    const pl = indexPlan(ix, preds, skeys);
    if (!pl) continue;
    pl.count = 0;
    for (const b of pl.bounds) pl.count += countRun(ix, b);
    plans.push(pl);
  }
  let minCount = Infinity;
  for (const pl of plans) if (pl.bounded && pl.count < minCount) minCount = pl.count;
  const total = coll.docs.size;
  if (minCount === Infinity) minCount = total;
  const sorting = !!(skeys && skeys.length) || skeys === null;
  for (const pl of plans) {
    let cost;
    if (pl.scanDir && sorting) cost = need ? Math.min(pl.count, need * pl.count / Math.max(1, minCount)) : pl.count;
    else cost = pl.count * (sorting ? 1.3 : 1);
    if (!pl.bounded && !(pl.scanDir && sorting)) continue;
    pl.cost = cost;
    // equal costs: the tighter bounds (more fields bound), then index order
    pl.tight = pl.runs[0].length + (pl.iv ? 0.5 : 0);
    if (!best || cost < best.cost || (cost === best.cost && pl.tight > best.tight)) best = pl;
  }
  return best;
}

// The plan for a query on a collection (never null: COLLSCAN at worst).
function choose(coll, q) {
  const total = coll.docs.size;
  const skeys = sortKeys(q.sort);
  const sorting = !!(skeys && skeys.length) || skeys === null;
  const collscan = { type: 'COLLSCAN', cost: total * (sorting ? 1.3 : 1) };
  if (q.text) {
    const { queryTerms } = require('./text');
    // terms null: the postings cannot answer (another $language): every document
    return { type: 'TEXT', ix: coll.textIndex, terms: queryTerms(coll.textIndex, q.text), cost: 0 };
  }
  const preds = collectPreds(q.filter, '', new Map());
  // _id equality: the document itself (mongod's IDHACK); the view's get()
  // gives the version this reader sees, in a transaction too
  const idp = preds.get('_id');
  if (idp) {
    for (const x of idp) {
      if (x.pts && x.pts.length === 1 && x.pts[0] !== null) return { type: 'IDHACK', value: x.pts[0], cost: 1 };
    }
  }
  // As MongoDB: a collection scan only when no index applies (bounds or
  // the sort); the costs choose among the indexes.
  let best = collscan;
  const ip = bestIndexPlan(coll, preds, skeys, q.need);
  if (ip) best = ip;
  // $or: every branch needs an index
  const or = q.filter && Array.isArray(q.filter.$or) ? q.filter.$or : null;
  if (or && or.length && or.every(isDocument)) {
    const outer = {};
    for (const k of Object.keys(q.filter)) if (k !== '$or') outer[k] = q.filter[k];
    const branches = [];
    let cost = 0;
    for (const br of or) {
      const bp = bestIndexPlan(coll, collectPreds(br, '', collectPreds(outer, '', new Map())), [], 0);
      if (!bp || !bp.bounded) { cost = Infinity; break; }
      branches.push(bp);
      cost += bp.count;
    }
    if (cost < Infinity && (best === collscan || cost * (sorting ? 1.3 : 1) < best.cost)) best = { type: 'OR', branches, cost };
  }
  return best;
}

// Natural rank of documents as a collection scan of the view meets them.
function rankFn(view) {
  const c = view.coll;
  if (!view.txn) return (id) => { const r = c.docs.get(id); return r ? r.r : Infinity; };
  // a transaction's scan: committed ids, then ids only in history, then
  // ids only in its overlay (View.scan)
  const extra = new Map();
  let n = c.seq + 1;
  for (const k of c.history.keys()) if (!c.docs.has(k) && !extra.has(k)) extra.set(k, n++);
  if (view.overlay) for (const k of view.overlay.keys()) if (!c.docs.has(k) && !extra.has(k)) extra.set(k, n++);
  return (id) => { const r = c.docs.get(id); if (r) return r.r; const x = extra.get(id); return x === undefined ? Infinity : x; };
}

function describe(plan) {
  switch (plan.type) {
    case 'COLLSCAN': return { stage: 'COLLSCAN' };
    case 'IDHACK': return { stage: 'IDHACK', indexName: '_id_' };
    case 'TEXT': return { stage: 'TEXT_MATCH', inputStage: { stage: 'TEXT_OR', indexName: plan.ix.name } };
    case 'OR': return { stage: 'OR', inputStages: plan.branches.map((b) => ({ stage: 'IXSCAN', indexName: b.ix.name, keyPattern: b.ix.spec.key })) };
    default: return {
      stage: 'IXSCAN', indexName: plan.ix.name, keyPattern: plan.ix.spec.key,
      isMultiKey: plan.ix.multi.some((m) => m > 0), direction: plan.scanDir < 0 ? 'backward' : 'forward',
      sortProvided: !!plan.scanDir, runs: plan.runs.length,
    };
  }
}

// Run a query. q: {filter (without $text), text ($text or undefined),
// match, scorer, scores (Map to fill, with scorer), cmp (doc comparator or
// null), sort, skip, limit, ordered (false: any order will do)}.
// Returns {docs, plan, stats}.
function execute(view, q) {
  const stats = { keysExamined: 0, docsExamined: 0 };
  const coll = view.coll;
  if (!coll) return { docs: [], plan: { type: 'COLLSCAN', cost: 0 }, stats };
  const need = q.limit ? q.skip + q.limit : 0;
  const plan = choose(coll, { ...q, need });
  const accept = (d) => {
    if (!q.match(d)) return false;
    if (q.scorer) { const s = q.scorer(d); if (!s) return false; q.scores.set(d, s); }
    return true;
  };
  let docs;
  if (plan.type === 'IDHACK') {
    const d = view.get(keyOf(plan.value));
    stats.keysExamined = stats.docsExamined = d ? 1 : 0;
    docs = d && accept(d) ? [d] : [];
  } else if (plan.type === 'COLLSCAN') {
    docs = [];
    const early = !q.cmp && need && !q.scorer;
    for (const d of view.scan()) {
      stats.docsExamined++;
      if (accept(d)) { docs.push(d); if (early && docs.length >= need) break; }
    }
    if (q.cmp) { // stable: ties stay in natural order; keys extracted once per document
      const sk = q.cmp.keys;
      const dec = docs.map((d) => ({ d, k: sk.extract(d) }));
      dec.sort((a, b) => sk.cmpKeys(a.k, b.k));
      docs = dec.map((x) => x.d);
    }
  } else if (plan.type === 'IXSCAN' && plan.scanDir && q.cmp && !view.txn) {
    docs = orderedScan(view, plan, q, accept, need, stats);
  } else {
    // candidate ids, then natural order, then the sort
    const ids = new Set();
    if (plan.type === 'TEXT') {
      if (plan.terms === null) for (const id of coll.docs.keys()) ids.add(id);
      else for (const t of plan.terms) { const s = plan.ix.postings.get(t); if (s) for (const id of s) ids.add(id); }
      stats.keysExamined = ids.size;
    } else {
      for (const p of plan.type === 'OR' ? plan.branches : [plan]) {
        for (const b of p.bounds) for (const e of scanRun(p.ix, b, 1)) { stats.keysExamined++; ids.add(e.id); }
      }
    }
    if (view.txn) {
      for (const k of coll.history.keys()) ids.add(k);
      if (view.overlay) for (const k of view.overlay.keys()) ids.add(k);
    }
    const rank = rankFn(view);
    let items = [];
    for (const id of ids) {
      const d = view.get(id);
      if (!d) continue;
      stats.docsExamined++;
      if (accept(d)) items.push({ d, r: rank(id), k: null });
    }
    if (q.cmp) {
      const sk = q.cmp.keys;
      for (const it of items) it.k = sk.extract(it.d);
      items.sort((a, b) => sk.cmpKeys(a.k, b.k) || a.r - b.r);
    } else if (q.ordered !== false) items.sort((a, b) => a.r - b.r);
    docs = items.map((x) => x.d);
  }
  if (q.skip) docs = docs.slice(q.skip);
  if (q.limit) docs = docs.slice(0, q.limit);
  return { docs, plan, stats };
}

// An index scan in sort order (committed data only): runs merged by the
// sort, equal sort keys put in natural order, stop at skip+limit.
function orderedScan(view, plan, q, accept, need, stats) {
  const coll = view.coll, sk = q.cmp.keys;
  const its = plan.bounds.map((b) => scanRun(plan.ix, b, plan.scanDir));
  const seen = new Set();
  const nextOf = (it) => {
    for (;;) {
      const r = it.next();
      if (r.done) return null;
      stats.keysExamined++;
      const e = r.value;
      if (seen.has(e.id)) continue;
      const rec = coll.docs.get(e.id);
      if (!rec) continue;
      seen.add(e.id);
      return { rec, k: sk.extract(rec.doc) };
    }
  };
  const heads = its.map(nextOf);
  const out = [];
  let group = [];
  const flush = () => { if (group.length > 1) group.sort((a, b) => a.rec.r - b.rec.r); for (const g of group) out.push(g.rec.doc); group = []; };
  for (;;) {
    let bi = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (!h) continue;
      if (bi < 0) { bi = i; continue; }
      const c = sk.cmpKeys(h.k, heads[bi].k);
      if (c < 0 || (c === 0 && h.rec.r < heads[bi].rec.r)) bi = i;
    }
    if (bi < 0) break;
    const head = heads[bi];
    heads[bi] = nextOf(its[bi]);
    // the merged stream is ordered by the sort: a new sort key closes the group
    if (group.length && sk.cmpKeys(group[0].k, head.k) !== 0) {
      flush();
      if (need && out.length >= need) break;
    }
    stats.docsExamined++;
    if (accept(head.rec.doc)) group.push(head);
  }
  flush();
  return out;
}

// {_id: v} alone with a point value: the IDHACK document is exactly the
// answer (runQuery then needs no matcher).
function exactIdFilter(filter) {
  if (!filter) return false;
  const ks = Object.keys(filter);
  if (ks.length !== 1 || ks[0] !== '_id') return false;
  const v = filter._id;
  return v !== null && !isRegex(v) && !Array.isArray(v) && !isDocument(v) && pointOk(v, '_id');
}

module.exports = { execute, choose, describe, collectPreds, exactIdFilter };
