'use strict';
// Aggregation pipeline on typed documents: every stage here keeps BSON
// numeric types exactly (an int64 $min/$max/$sum stays int64 with every
// digit, $count/$sum: 1 give int32 like MongoDB, $avg a double), inside
// $facet too. Stored documents are never mutated: stages that change a
// document build a new one.
//
// A stage this file does not implement makes the rest of the pipeline run in
// mingo on the plain view, with its output re-typed by field-name hints
// (the old heuristic), so nothing that worked before stops working.
const T = require('./types');
const { isDocument, numKind, toNumber, arith, compare, keyOf, clone, Double, ObjectId } = T;
const { err } = require('./errors');
const { compileMatcher, mingo, mapMingoError, MINGO_OPTS } = require('./matcher');
const { compileExpr, truthy, SCORE, REMOVE, minMax } = require('./expr');

const TYPED = new Set(['$match', '$project', '$addFields', '$set', '$unset', '$group', '$sort', '$skip', '$limit', '$count',
  '$unwind', '$facet', '$sortByCount', '$replaceRoot', '$replaceWith', '$lookup', '$bucket', '$unionWith', '$sample']);

const withScore = (out, src) => { if (src && src[SCORE] !== undefined) out[SCORE] = src[SCORE]; return out; };

// Set a dotted path in a (fresh) copy of doc; copies every level it touches.
function setPath(doc, parts, val) {
  const out = { ...doc };
  let t = out;
  for (let i = 0; i < parts.length - 1; i++) {
    const cur = t[parts[i]];
    if (Array.isArray(cur)) {
      // $addFields on a path through an array sets it in every element
      t[parts[i]] = cur.map((e) => (isDocument(e) ? setPath(e, parts.slice(i + 1), val) : setPath({}, parts.slice(i + 1), val)));
      return out;
    }
    t[parts[i]] = isDocument(cur) ? { ...cur } : {};
    t = t[parts[i]];
  }
  if (val === undefined || val === REMOVE) delete t[parts[parts.length - 1]];
  else t[parts[parts.length - 1]] = val;
  return out;
}

function unsetPath(doc, parts) {
  if (!isDocument(doc)) return doc;
  if (!Object.prototype.hasOwnProperty.call(doc, parts[0])) return doc;
  const out = { ...doc };
  if (parts.length === 1) { delete out[parts[0]]; return out; }
  const cur = out[parts[0]];
  if (Array.isArray(cur)) out[parts[0]] = cur.map((e) => unsetPath(e, parts.slice(1)));
  else out[parts[0]] = unsetPath(cur, parts.slice(1));
  return out;
}

// $project: inclusion/exclusion trees plus computed fields.
function compileProject(spec, name) {
  if (!isDocument(spec) || !Object.keys(spec).length) throw err(51272, `${name} specification must be a non-empty object`);
  let mode = null, idOn = true;
  const inc = [], exc = [], comp = [];
  for (const [f, v] of Object.entries(spec)) {
    if (typeof v === 'boolean' || numKind(v)) {
      const on = typeof v === 'boolean' ? v : toNumber(v) !== 0;
      if (f === '_id') { idOn = on; continue; }
      if (on) { if (mode === 'exc') throw err(31253, `Cannot do inclusion on field ${f} in exclusion projection`); mode = 'inc'; inc.push(f.split('.')); } else { if (mode === 'inc') throw err(31254, `Cannot do exclusion on field ${f} in inclusion projection`); mode = 'exc'; exc.push(f.split('.')); }
      continue;
    }
    if (mode === 'exc') throw err(31252, `Invalid $project :: caused by :: Cannot use expression other than $meta in exclusion projection`);
    mode = 'inc';
    comp.push([f.split('.'), compileExpr(v)]);
  }
  if (mode === 'exc' || (mode === null && !idOn)) {
    const all = idOn ? exc : [...exc, ['_id']];
    return (d) => withScore(all.reduce((o, p) => unsetPath(o, p), d), d);
  }
  const pick = (src, paths) => {
    const out = {};
    for (const k of Object.keys(src)) {
      const sub = paths.filter((p) => p[0] === k);
      if (!sub.length) continue;
      if (sub.some((p) => p.length === 1)) { out[k] = src[k]; continue; }
      const rest = sub.map((p) => p.slice(1));
      const v = src[k];
      if (isDocument(v)) out[k] = pick(v, rest);
      else if (Array.isArray(v)) out[k] = v.filter((e) => isDocument(e) || Array.isArray(e)).map((e) => (isDocument(e) ? pick(e, rest) : e));
    }
    return out;
  };
  return (d) => {
    let out = pick(d, inc);
    if (idOn && d._id !== undefined) out = { _id: d._id, ...out };
    for (const [p, e] of comp) {
      const v = e(d, d);
      if (v === undefined || v === REMOVE) continue;
      out = setPath(out, p, v);
    }
    return withScore(out, d);
  };
}

function compileAddFields(spec) {
  if (!isDocument(spec)) throw err(40272, '$addFields specification stage must be an object');
  const fs = Object.entries(spec).map(([f, v]) => [f.split('.'), compileExpr(v)]);
  return (d) => {
    let out = d;
    for (const [p, e] of fs) out = setPath(out, p, e(d, d));
    return withScore(out, d);
  };
}

// Accumulators of $group, on typed values.
function compileAccumulator(field, spec) {
  if (!isDocument(spec) || Object.keys(spec).length !== 1) throw err(40238, `The field '${field}' must specify one accumulator`);
  const op = Object.keys(spec)[0];
  const arg = spec[op];
  if (op === '$count') return { init: () => 0, step: (s) => (typeof s === 'number' && s < T.INT32_MAX ? s + 1 : arith('add', s, 1)), done: (s) => s };
  const e = compileExpr(arg);
  switch (op) {
    case '$sum': return { init: () => 0, step: (s, d) => { const v = e(d, d); return numKind(v) ? arith('add', s, v) : s; }, done: (s) => s };
    case '$avg': return {
      init: () => ({ n: 0, sum: 0 }),
      step: (s, d) => { const v = e(d, d); if (numKind(v)) { s.n++; s.sum = arith('add', s.sum, v); } return s; },
      done: (s) => (s.n ? (numKind(s.sum) === 'decimal' ? T.Decimal128.fromString(String(toNumber(s.sum) / s.n)) : new Double(toNumber(s.sum) / s.n)) : null),
    };
    case '$min': case '$max': {
      const dir = op === '$max' ? 1 : -1;
      return { init: () => undefined, step: (s, d) => { const v = e(d, d); return minMax(s === undefined ? [v] : [s, v], dir) ?? s; }, done: (s) => (s === undefined ? null : s) };
    }
    case '$first': return { init: () => ({ set: false }), step: (s, d) => { if (!s.set) { s.set = true; s.v = e(d, d); } return s; }, done: (s) => (s.v === undefined ? null : s.v) };
    case '$last': return { init: () => ({}), step: (s, d) => { s.v = e(d, d); return s; }, done: (s) => (s.v === undefined ? null : s.v) };
    case '$push': return { init: () => [], step: (s, d) => { const v = e(d, d); if (v !== undefined) s.push(v); return s; }, done: (s) => s };
    case '$addToSet': return {
      init: () => new Map(), step: (s, d) => { const v = e(d, d); if (v !== undefined && !s.has(keyOf(v))) s.set(keyOf(v), v); return s; }, done: (s) => [...s.values()],
    };
    default: throw err(15952, `unknown group operator '${op}'`);
  }
}

function compileGroup(spec) {
  if (!isDocument(spec) || spec._id === undefined) throw err(15955, "a group specification must include an _id");
  const idE = compileExpr(spec._id);
  const accs = Object.entries(spec).filter(([k]) => k !== '_id').map(([k, v]) => {
    if (k.includes('.')) throw err(40235, `The field name '${k}' cannot contain '.'`);
    return [k, compileAccumulator(k, v)];
  });
  return (docs) => {
    const groups = new Map();
    for (const d of docs) {
      let id = idE(d, d);
      if (id === undefined) id = null;
      const k = keyOf(id);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { id, st: accs.map(([, a]) => a.init()) }));
      accs.forEach(([, a], i) => { g.st[i] = a.step(g.st[i], d); });
    }
    const out = [];
    for (const g of groups.values()) {
      const o = { _id: g.id };
      accs.forEach(([k, a], i) => { o[k] = a.done(g.st[i]); });
      out.push(o);
    }
    return out;
  };
}

function compileSortStage(spec) {
  if (!isDocument(spec) || !Object.keys(spec).length) throw err(15976, '$sort stage must have at least one sort key');
  const keys = Object.entries(spec).map(([f, v]) => {
    if (isDocument(v) && v.$meta !== undefined) {
      if (v.$meta !== 'textScore') throw err(17308, `Unsupported argument to $meta: ${v.$meta}`);
      return { meta: true };
    }
    const n = numKind(v) ? toNumber(v) : NaN;
    if (n !== 1 && n !== -1) throw err(15975, '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
    return { parts: f, dir: n };
  });
  const sortKey = (d, f, dir) => {
    const vals = [];
    for (const v of T.getPath(d, f)) { if (Array.isArray(v)) { if (v.length) vals.push(...v); else vals.push(undefined); } else vals.push(v); }
    if (!vals.length) return null;
    let best = vals[0];
    for (const v of vals) { const c = compare(v, best); if (dir > 0 ? c < 0 : c > 0) best = v; }
    return best;
  };
  return (docs) => {
    const dec = docs.map((d, i) => ({ d, i, k: keys.map((k) => (k.meta ? d[SCORE] || 0 : sortKey(d, k.parts, k.dir))) }));
    dec.sort((a, b) => {
      for (let j = 0; j < keys.length; j++) {
        const k = keys[j];
        const c = k.meta ? Math.sign(b.k[j] - a.k[j]) : compare(a.k[j], b.k[j]) * k.dir;
        if (c) return c;
      }
      return a.i - b.i;
    });
    return dec.map((x) => x.d);
  };
}

function compileUnwind(spec) {
  const o = typeof spec === 'string' ? { path: spec } : spec;
  if (!isDocument(o) || typeof o.path !== 'string' || o.path[0] !== '$') throw err(28818, "$unwind requires a path starting with '$'");
  const parts = o.path.slice(1).split('.');
  const keepEmpty = !!o.preserveNullAndEmptyArrays;
  const idx = o.includeArrayIndex ? o.includeArrayIndex.split('.') : null;
  return (docs) => {
    const out = [];
    for (const d of docs) {
      const v = T.getFirst(d, parts.join('.'));
      if (Array.isArray(v)) {
        if (!v.length) { if (keepEmpty) { let n = unsetPath(d, parts); if (idx) n = setPath(n, idx, null); out.push(withScore(n, d)); } continue; }
        v.forEach((e, i) => { let n = setPath(d, parts, e); if (idx) n = setPath(n, idx, T.Long.fromNumber(i)); out.push(withScore(n, d)); });
      } else if (v === undefined || v === null) {
        if (keepEmpty) { let n = d; if (idx) n = setPath(n, idx, null); out.push(n); }
      } else {
        let n = d;
        if (idx) n = setPath(n, idx, null);
        out.push(n);
      }
    }
    return out;
  };
}

// Rewrite $bucket as $group on a $switch plus $sort (MongoDB's definition).
function bucketStages(spec) {
  const b = spec.boundaries;
  if (!Array.isArray(b) || b.length < 2) throw err(40192, "The $bucket 'boundaries' field must be an array of at least 2 values");
  for (let i = 1; i < b.length; i++) if (!(compare(b[i - 1], b[i]) < 0)) throw err(40194, "The 'boundaries' option to $bucket must be sorted in ascending order");
  const branches = [];
  for (let i = 0; i + 1 < b.length; i++) branches.push({ case: { $and: [{ $gte: [spec.groupBy, b[i]] }, { $lt: [spec.groupBy, b[i + 1]] }] }, then: b[i] });
  const NONE = '__standin_no_bucket';
  const sw = { branches, default: spec.default !== undefined ? spec.default : { $literal: NONE } };
  const out = [{ $group: { _id: { $switch: sw }, ...(spec.output || { count: { $sum: 1 } }) } }];
  if (spec.default === undefined) out.push({ $match: { _id: { $ne: NONE } } });
  out.push({ $sort: { _id: 1 } });
  return out;
}

// env: {resolve(collName) -> typed docs, hints: Map} for $lookup/$unionWith
// and the mingo fallback.
function run(pipeline, docs, env) {
  for (let i = 0; i < pipeline.length; i++) {
    const st = pipeline[i];
    if (!isDocument(st) || Object.keys(st).length !== 1) throw err(40323, 'A pipeline stage specification object must contain exactly one field.');
    const name = Object.keys(st)[0];
    const spec = st[name];
    if (!TYPED.has(name)) return fallback(pipeline.slice(i), docs, env);
    switch (name) {
      case '$match': { const m = compileMatcher(spec); docs = docs.filter((d) => m(d)); break; }
      case '$project': { const p = compileProject(spec, '$project'); docs = docs.map(p); break; }
      case '$addFields': case '$set': { const p = compileAddFields(spec); docs = docs.map(p); break; }
      case '$unset': {
        const fs = (Array.isArray(spec) ? spec : [spec]).map((f) => { if (typeof f !== 'string') throw err(31120, '$unset specification must be a string or an array containing only string values'); return f.split('.'); });
        docs = docs.map((d) => withScore(fs.reduce((o, p) => unsetPath(o, p), d), d));
        break;
      }
      case '$group': docs = compileGroup(spec)(docs); break;
      case '$sort': docs = compileSortStage(spec)(docs); break;
      case '$skip': { const n = toNumber(spec); if (!(n >= 0)) throw err(15956, 'invalid argument to $skip stage: Cannot skip a negative number of documents'); docs = docs.slice(n); break; }
      case '$limit': { const n = toNumber(spec); if (!(n > 0)) throw err(15958, 'the limit must be positive'); docs = docs.slice(0, n); break; }
      case '$count': {
        if (typeof spec !== 'string' || !spec || spec[0] === '$' || spec.includes('.')) throw err(40156, 'the count field must be a non-empty string');
        docs = docs.length ? [{ [spec]: docs.length }] : [];
        break;
      }
      case '$unwind': docs = compileUnwind(spec)(docs); break;
      case '$facet': {
        if (!isDocument(spec) || !Object.keys(spec).length) throw err(40169, 'the $facet specification must be a non-empty object');
        const out = {};
        for (const [k, sub] of Object.entries(spec)) {
          if (!Array.isArray(sub)) throw err(40170, `arguments to $facet must be arrays, ${k} is type ${typeof sub}`);
          out[k] = run(sub, docs, env);
        }
        docs = [out];
        break;
      }
      case '$sortByCount': {
        docs = run([{ $group: { _id: spec, count: { $sum: 1 } } }, { $sort: { count: -1 } }], docs, env);
        break;
      }
      case '$replaceRoot': case '$replaceWith': {
        const e = compileExpr(name === '$replaceRoot' ? (isDocument(spec) ? spec.newRoot : undefined) : spec);
        docs = docs.map((d) => {
          const r = e(d, d);
          if (!isDocument(r)) throw err(40228, `'newRoot' expression must evaluate to an object, but resulting value was: ${T.show(r)}`);
          return r;
        });
        break;
      }
      case '$bucket': docs = run(bucketStages(spec), docs, env); break;
      case '$sample': {
        const n = toNumber(spec && spec.size);
        const a = docs.slice();
        for (let j = a.length - 1; j > 0; j--) { const r = Math.floor(Math.random() * (j + 1)); [a[j], a[r]] = [a[r], a[j]]; }
        docs = a.slice(0, n);
        break;
      }
      case '$lookup': {
        if (!isDocument(spec) || typeof spec.from !== 'string' || typeof spec.as !== 'string') throw err('FailedToParse', '$lookup needs from and as');
        const foreign = env.resolve(spec.from);
        const as = spec.as.split('.');
        if (spec.pipeline !== undefined) {
          if (spec.let !== undefined || spec.localField !== undefined) throw err('BadValue', "mongo-standin: $lookup with 'let' or pipeline plus localField is not implemented");
          const res = run(spec.pipeline, foreign, env);
          docs = docs.map((d) => setPath(d, as, res));
          break;
        }
        const lf = spec.localField, ff = spec.foreignField;
        // A hash join: the foreign documents indexed once by each value of
        // foreignField (array elements each; missing counts as null, as in
        // MongoDB), in their natural order, instead of a scan per document.
        const byKey = new Map();
        foreign.forEach((f, pos) => {
          const fv = []; for (const v of T.getPath(f, ff)) { if (Array.isArray(v)) fv.push(...v); else fv.push(v); }
          if (!fv.length) fv.push(null);
          for (const k of new Set(fv.map((v) => keyOf(v === undefined ? null : v)))) {
            let l = byKey.get(k);
            if (!l) byKey.set(k, (l = []));
            l.push(pos);
          }
        });
        docs = docs.map((d) => {
          const lv = []; for (const v of T.getPath(d, lf)) { if (Array.isArray(v)) lv.push(...v); else lv.push(v); }
          if (!lv.length) lv.push(null);
          const hit = new Set();
          for (const k of new Set(lv.map((v) => keyOf(v === undefined ? null : v)))) for (const pos of byKey.get(k) || []) hit.add(pos);
          const hits = [...hit].sort((x, y) => x - y).map((pos) => foreign[pos]);
          return withScore(setPath(d, as, hits), d);
        });
        break;
      }
      case '$unionWith': {
        const o = typeof spec === 'string' ? { coll: spec } : spec;
        let other = env.resolve(o.coll);
        if (o.pipeline) other = run(o.pipeline, other, env);
        docs = docs.concat(other);
        break;
      }
    }
  }
  return docs;
}

// The rest of a pipeline in mingo (plain view), output re-typed by hints.
function fallback(stages, docs, env) {
  // mingo 6.7's $bucket puts a boundary value into the previous bucket
  stages = stages.flatMap((st) => (isDocument(st) && isDocument(st.$bucket) ? bucketStages(st.$bucket) : [st]));
  const input = docs.map((d) => { const p = T.toPlain(d); if (d[SCORE] !== undefined) p.__standin_textScore = d[SCORE]; return p; });
  const usesMeta = JSON.stringify(stages, (k, v) => (typeof v === 'bigint' ? String(v) : v)).includes('"$meta"');
  if (usesMeta) throw err('BadValue', 'mongo-standin: $meta after stage ' + Object.keys(stages[0])[0] + ' is not implemented');
  const resolver = (name) => env.resolve(name).map(T.toPlain);
  let out;
  try { out = new mingo.Aggregator(T.toPlain(stages), { ...MINGO_OPTS, collectionResolver: resolver }).run(input); } catch (e) { throw mapMingoError(e, 'aggregate'); }
  return out.map((r) => { if (isDocument(r)) delete r.__standin_textScore; return T.retype(r, env.hints); });
}

module.exports = { run, compileProject, compileAddFields, SCORE, truthy, clone, ObjectId };
