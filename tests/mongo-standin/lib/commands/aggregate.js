'use strict';
// aggregate: lib/pipeline.js runs the pipeline on the typed documents (BSON
// types kept exactly); a stage it does not implement hands the rest to mingo,
// whose output numbers are re-typed with hints from the source collections.
// A leading $match runs through our own query path (so $text and index
// lookups work); $out/$merge are executed here so that indexes hold.
const T = require('../types');
const { isDocument, keyOf, ObjectId } = T;
const { err } = require('../errors');
const { compileMatcher } = require('../matcher');
const { _internal: C } = require('./crud');
const { Collection } = require('../storage');
const P = require('../pipeline');

const UNSUPPORTED = new Set(['$search', '$searchMeta', '$geoNear', '$collStats', '$indexStats', '$currentOp', '$listSessions',
  '$listLocalSessions', '$changeStream', '$planCacheStats', '$listSearchIndexes', '$documents']);

// Propagate numeric type hints through simple $group/$project/$addFields
// (used only by the mingo fallback).
function propagateHints(pipeline, hints) {
  const srcOf = (e) => (typeof e === 'string' && e[0] === '$' && e[1] !== '$' ? e.slice(1).split('.').pop() : null);
  for (const st of pipeline) {
    const [name] = Object.keys(st);
    const spec = st[name];
    if (!isDocument(spec)) continue;
    if (name === '$group' || name === '$project' || name === '$addFields' || name === '$set' || name === '$bucket') {
      const fields = name === '$bucket' ? spec.output || {} : spec;
      for (const [out, e] of Object.entries(fields)) {
        if (out === '_id') continue;
        let src = srcOf(e), op = null;
        if (!src && isDocument(e) && Object.keys(e).length === 1) { op = Object.keys(e)[0]; src = srcOf(e[op]); }
        if (!src || !hints.has(src)) continue;
        if (op === '$avg') hints.set(out, hints.get(src) === 'decimal' ? 'decimal' : 'double');
        else if (!op || ['$sum', '$min', '$max', '$first', '$last', '$push', '$addToSet', '$toLong', '$abs'].includes(op)) {
          if (!hints.has(out) || hints.get(out) === 'int') hints.set(out, hints.get(src));
        }
      }
    }
  }
}

async function writeOut(ctx, spec, docs) {
  const target = typeof spec === 'string' ? { db: ctx.db, coll: spec } : spec;
  if (!isDocument(target) || typeof target.coll !== 'string') throw err('FailedToParse', '$out must be a string or an object with db and coll');
  const dbName = target.db || ctx.db;
  const existing = ctx.store.coll(dbName, target.coll, true);
  // Build the new contents in a scratch collection with the same indexes,
  // so a duplicate key fails the whole $out like MongoDB (atomic swap).
  const scratch = new Collection(existing.db, existing.name);
  for (const ix of existing.indexes.slice(1)) scratch.addIndex(ix.spec);
  for (let d of docs) {
    if (d._id === undefined) d = { _id: new ObjectId(), ...d };
    const k = keyOf(d._id);
    if (scratch.docs.has(k)) throw require('../indexes').dupKeyError(existing.ns, scratch.indexes[0], d);
    for (const ix of scratch.secondary) {
      if (ix.unique) for (const key of ix.keys(d)) if (ix.map.has(key)) throw require('../indexes').dupKeyError(existing.ns, ix, d);
    }
    scratch.commitWrite(k, d, ++ctx.store.ts, false);
  }
  existing.docs = scratch.docs;
  existing.seq = scratch.seq;
  existing.indexes = scratch.indexes;
  existing.hints = scratch.hints;
  ctx.store.changed();
}

async function writeMerge(ctx, spec, docs) {
  if (typeof spec === 'string') spec = { into: spec };
  if (!isDocument(spec)) throw err('FailedToParse', '$merge requires a string or an object');
  const into = typeof spec.into === 'string' ? { db: ctx.db, coll: spec.into } : spec.into;
  const on = spec.on === undefined ? ['_id'] : Array.isArray(spec.on) ? spec.on : [spec.on];
  const whenMatched = spec.whenMatched || 'merge';
  const whenNotMatched = spec.whenNotMatched || 'insert';
  if (!['merge', 'replace', 'keepExisting', 'fail'].includes(whenMatched)) throw err('BadValue', 'mongo-standin: $merge whenMatched ' + JSON.stringify(whenMatched) + ' is not implemented');
  if (!['insert', 'discard', 'fail'].includes(whenNotMatched)) throw err('BadValue', "Enumeration value for 'whenNotMatched' is invalid");
  if (spec.let !== undefined) throw err('BadValue', "mongo-standin: $merge 'let' is not implemented");
  const view = ctx.view(into.db || ctx.db, into.coll, null, true);
  if (on.join() !== '_id') {
    const ok = view.coll.indexes.some((ix) => ix.unique && ix.fields.length === on.length && on.every((f) => ix.fields.includes(f)));
    if (!ok) throw err(51183, 'Cannot find index to verify that join fields will be unique');
  }
  for (let d of docs) {
    const q = {};
    for (const f of on) q[f] = T.getFirst(d, f) ?? null;
    const match = compileMatcher(q);
    let cur = null;
    for (const c of view.candidates(q)) if (match(c)) { cur = c; break; }
    if (!cur) {
      if (whenNotMatched === 'discard') continue;
      if (whenNotMatched === 'fail') throw err(13113, "$merge could not find a matching document in the target collection for at least one document in the source collection");
      if (d._id === undefined) d = { _id: new ObjectId(), ...d };
      await view.insert(d);
      continue;
    }
    const idKey = keyOf(cur._id);
    await view.lock(idKey);
    cur = view.get(idKey);
    if (whenMatched === 'keepExisting') continue;
    if (whenMatched === 'fail') throw require('../indexes').dupKeyError(view.ns, view.coll.indexes[0], cur);
    const nd = whenMatched === 'replace' ? { ...d, _id: cur._id } : { ...cur, ...d, _id: cur._id };
    view.write(idKey, nd);
  }
}

async function aggregate(ctx, cmd) {
  const collArg = cmd.aggregate;
  if (typeof collArg !== 'string') {
    throw err('BadValue', 'mongo-standin: collection-less aggregate ({aggregate: 1}) is not implemented');
  }
  C.checkFields(cmd, ctx, new Set(['pipeline', 'cursor', 'allowDiskUse', 'hint', 'collation', 'bypassDocumentValidation', 'let']),
    new Set(['explain']));
  C.checkCollation(cmd.collation);
  if (cmd.let !== undefined) throw err('BadValue', "mongo-standin: 'let' is not implemented");
  if (!Array.isArray(cmd.pipeline)) throw err('TypeMismatch', "BSON field 'aggregate.pipeline' is missing or not an array");
  if (!isDocument(cmd.cursor)) throw err('FailedToParse', "The 'cursor' option is required, except for aggregate with the explain argument");
  const batchSize = C.optNum(cmd.cursor.batchSize, 'cursor.batchSize', undefined);
  let pipeline = cmd.pipeline.slice();
  pipeline.forEach((st, i) => {
    if (!isDocument(st) || Object.keys(st).length !== 1) throw err(40323, 'A pipeline stage specification object must contain exactly one field.');
    const name = Object.keys(st)[0];
    if (UNSUPPORTED.has(name)) throw err(40324, `mongo-standin: pipeline stage '${name}' is not implemented`);
    if ((name === '$out' || name === '$merge') && i !== pipeline.length - 1) throw err(40601, `${name} can only be the final stage in the pipeline`);
    if (name === '$match' && st.$match && st.$match.$text !== undefined && i !== 0) throw err(17313, '$match with $text is only allowed as the first pipeline stage');
  });
  let outStage = null;
  const last = pipeline[pipeline.length - 1];
  if (last && (last.$out !== undefined || last.$merge !== undefined)) {
    if (ctx.txn) throw err('OperationNotSupportedInTransaction', `${Object.keys(last)[0]} cannot be used in a transaction`);
    outStage = last;
    pipeline = pipeline.slice(0, -1);
  }
  const view = ctx.view(ctx.db, collArg, ctx.txn);
  const hints = new Map(view.coll ? view.coll.hints : []);
  let docs, scores = null;
  if (pipeline[0] && pipeline[0].$match !== undefined) {
    let match = C.optDoc(pipeline[0].$match, '$match');
    let used = 1;
    // $match, $match (no $text in either): one filter, as MongoDB's optimizer does
    while (pipeline[used] && isDocument(pipeline[used].$match) && pipeline[used].$match.$text === undefined &&
      match.$text === undefined && match.$and === undefined) {
      match = { ...match, $and: [pipeline[used].$match] };
      used++;
    }
    // a $sort (+ $skip/$limit) right after goes into the query plan; the
    // stages still run on what comes back (same comparator, same answer)
    const opts = { op: 'aggregate' };
    let at = used;
    // the search's {$addFields: {F: {$meta: "textScore"}}} then $sort {F: -1, ...}:
    // the same order as sorting by the text score in the query
    let scoreField = null;
    const af = pipeline[at] && (pipeline[at].$addFields || pipeline[at].$set);
    if (match.$text !== undefined && isDocument(af) && Object.keys(af).length === 1) {
      const [f] = Object.keys(af);
      const v = af[f];
      if (!f.includes('.') && f[0] !== '$' && isDocument(v) && Object.keys(v).length === 1 && v.$meta === 'textScore') { scoreField = f; at++; }
    }
    const sortSpec = pipeline[at] && pipeline[at].$sort;
    if (isDocument(sortSpec) && Object.keys(sortSpec).length &&
      Object.values(sortSpec).every((v) => T.numKind(v) && Math.abs(T.toNumber(v)) === 1) &&
      (!scoreField || (sortSpec[scoreField] !== undefined && T.toNumber(sortSpec[scoreField]) === -1 &&
        !Object.keys(sortSpec).some((k) => k.startsWith(scoreField + '.'))))) {
      opts.sort = sortSpec;
      if (scoreField) {
        opts.sort = {};
        for (const [k, v] of Object.entries(sortSpec)) opts.sort[k] = k === scoreField ? { $meta: 'textScore' } : v;
      }
      let skip = 0, j = at + 1;
      if (pipeline[j] && pipeline[j].$skip !== undefined && T.numKind(pipeline[j].$skip) && T.toNumber(pipeline[j].$skip) >= 0) { skip = T.toNumber(pipeline[j].$skip); j++; }
      const lim = pipeline[j] && pipeline[j].$limit;
      if (lim !== undefined && T.numKind(lim) && T.toNumber(lim) > 0 && Number.isSafeInteger(T.toNumber(lim) + skip)) opts.limit = T.toNumber(lim) + skip;
    }
    const r = C.runQuery(view, match, opts);
    docs = r.docs;
    scores = r.scores;
    pipeline = pipeline.slice(used);
  } else docs = [...view.scan()];
  const usesMeta = JSON.stringify(pipeline, (k, v) => (typeof v === 'bigint' ? String(v) : v)).includes('"$meta"');
  if (usesMeta && !scores) throw err(40218, 'query requires text score metadata, but it is not available');
  // The text score travels with each document as a hidden (symbol) field;
  // stored documents are never touched, so they are copied first.
  if (scores) docs = docs.map((d) => { const c = { ...d }; c[P.SCORE] = scores.get(d); return c; });
  propagateHints(pipeline, hints);
  const env = {
    hints,
    resolve: (name) => {
      const v = ctx.view(ctx.db, name, ctx.txn);
      if (v.coll) for (const [k, h] of v.coll.hints) if (!hints.has(k)) hints.set(k, h);
      return [...v.scan()];
    },
  };
  const result = P.run(pipeline, docs, env);
  const ns = ctx.db + '.' + collArg;
  if (outStage) {
    if (outStage.$out !== undefined) await writeOut(ctx, outStage.$out, result);
    else await writeMerge(ctx, outStage.$merge, result);
    return { cursor: { firstBatch: [], id: T.Long.ZERO, ns }, ok: 1 };
  }
  return C.makeCursor(ctx, ns, result, batchSize, false);
}

module.exports = { aggregate };
