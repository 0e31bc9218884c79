'use strict';
// CRUD commands: insert, find, getMore, killCursors, update, delete,
// findAndModify, count, distinct.
const T = require('../types');
const { keyOf, isDocument, ObjectId, Long, toNumber, numKind, compare, clone, getPath } = T;
const { err, MongoError } = require('../errors');
const { compileMatcher, compilePlainMatcher } = require('../matcher');
const { compileSort, compileProjection } = require('../query');
const { compileTextSearch } = require('../text');
const U = require('../update');
const planner = require('../planner');

// ---------- helpers ----------
function collName(cmd, name) {
  const c = cmd[name];
  if (typeof c !== 'string' || !c) throw err('InvalidNamespace', `collection name has invalid type ${c === undefined ? 'missing' : typeof c}`);
  return c;
}

function checkFields(cmd, ctx, allowed, unsupported) {
  for (const k of Object.keys(cmd).slice(1)) {
    if (ctx.generic.has(k) || allowed.has(k)) continue;
    if (unsupported && unsupported.has(k)) throw err('BadValue', `mongo-standin: option '${k}' is not implemented`);
    throw err(40415, `BSON field '${Object.keys(cmd)[0]}.${k}' is an unknown field.`);
  }
}

const optDoc = (v, what) => {
  if (v === undefined || v === null) return {};
  if (!isDocument(v)) throw err('TypeMismatch', `BSON field '${what}' is the wrong type '${typeof v}', expected type 'object'`);
  return v;
};
const optNum = (v, what, def) => {
  if (v === undefined || v === null) return def;
  if (!numKind(v)) throw err('TypeMismatch', `BSON field '${what}' is the wrong type, expected a number`);
  return toNumber(v);
};

function checkCollation(c) {
  if (c === undefined) return;
  if (!isDocument(c) || (c.locale !== 'simple')) throw err('BadValue', 'mongo-standin: collations other than {locale: "simple"} are not implemented');
}

function checkHint(view, hint) {
  if (hint === undefined) return;
  const ok = view.coll && view.coll.indexes.some((ix) =>
    (typeof hint === 'string' ? ix.name === hint : isDocument(hint) && keyOf(ix.spec.key) === keyOf(hint)));
  if (typeof hint === 'object' && isDocument(hint) && (hint.$natural !== undefined)) return;
  if (!ok && view.coll) throw err('BadValue', 'error processing query: planner returned error :: caused by :: hint provided does not correspond to an existing index');
}

// Split $text out of a filter. Returns {rest, scorer}.
function textPart(view, filter) {
  if (!filter || filter.$text === undefined) return { rest: filter, scorer: null };
  const ix = view.coll && view.coll.textIndex;
  if (!ix) throw err('IndexNotFound', 'text index required for $text query');
  const { $text, ...rest } = filter;
  return { rest, scorer: compileTextSearch(ix, $text) };
}

// Evaluate a query through the planner (lib/planner.js): returns {docs,
// scores, scoreOf, plan}. opts: sort, skip, limit, projection, ordered
// (false: the caller needs the matching set only, e.g. count), op (the
// command, for the plan log).
function runQuery(view, filter, opts = {}) {
  const { rest, scorer } = textPart(view, filter || {});
  const scores = scorer ? new Map() : null;
  // {_id: v}: the document the _id lookup finds is the answer
  const match = planner.exactIdFilter(rest) ? () => true : compileMatcher(rest);
  const scoreOf = scores ? (d) => scores.get(d) : null;
  const cmp = compileSort(opts.sort, scoreOf);
  const r = planner.execute(view, {
    filter: rest, text: filter ? filter.$text : undefined, match, scorer, scores, cmp, sort: opts.sort,
    skip: opts.skip || 0, limit: opts.limit || 0, ordered: opts.ordered,
  });
  let docs = r.docs;
  if (view.store.planLog && view.coll) view.store.logPlan(view.ns, opts.op || 'find', filter, opts.sort, r);
  if (opts.projection && Object.keys(opts.projection).length) {
    const p = compileProjection(opts.projection, scoreOf);
    docs = docs.map(p);
  }
  return { docs, scores, scoreOf, plan: r.plan, stats: r.stats };
}

// Whether doc is still in the query's answer (a write rechecks after waiting).
function stillMatches(view, filter, doc) {
  const { rest, scorer } = textPart(view, filter || {});
  return compileMatcher(rest)(doc) && (!scorer || !!scorer(doc));
}

// ---------- cursors ----------
const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024;
function takeBatch(docs, pos, n) {
  const end = n > 0 ? Math.min(docs.length, pos + n) : docs.length;
  let bytes = 0;
  let i = pos;
  for (; i < end; i++) {
    bytes += T.bson.BSON.calculateObjectSize(docs[i]);
    if (bytes > MAX_BATCH_BYTES && i > pos) break;
  }
  return i;
}

function newCursorId() {
  const b = require('crypto').randomBytes(8);
  b[7] &= 0x7f;
  const id = Long.fromBytesLE([...b]);
  return id.isZero() ? Long.ONE : id;
}

function makeCursor(ctx, ns, docs, batchSize, singleBatch) {
  const n = batchSize === undefined ? 101 : batchSize;
  const end = takeBatch(docs, 0, n);
  const first = docs.slice(0, end);
  let id = Long.ZERO;
  if (end < docs.length && !singleBatch) {
    id = newCursorId();
    ctx.server.cursors.set(id.toString(), { ns, docs, pos: end, created: Date.now(), lastUse: Date.now() });
  }
  return { cursor: { firstBatch: first, id, ns }, ok: 1 };
}

function getMore(ctx, cmd) {
  const idv = cmd.getMore;
  if (!idv || idv._bsontype !== 'Long') throw err('TypeMismatch', "BSON field 'getMore.getMore' is the wrong type, expected type 'long'");
  const coll = collName(cmd, 'collection');
  checkFields(cmd, ctx, new Set(['collection', 'batchSize', 'maxTimeMS', 'term', 'lastKnownCommittedOpTime']));
  const key = idv.toString();
  const c = ctx.server.cursors.get(key);
  if (!c) throw err('CursorNotFound', `cursor id ${key} not found`);
  const ns = ctx.db + '.' + coll;
  if (c.ns !== ns) throw err('Unauthorized', `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${c.ns}`);
  const n = optNum(cmd.batchSize, 'getMore.batchSize', 0);
  const end = takeBatch(c.docs, c.pos, n);
  const batch = c.docs.slice(c.pos, end);
  c.pos = end;
  c.lastUse = Date.now();
  let id = idv;
  if (c.pos >= c.docs.length) { ctx.server.cursors.delete(key); id = Long.ZERO; }
  return { cursor: { nextBatch: batch, id, ns }, ok: 1 };
}

function killCursors(ctx, cmd) {
  collName(cmd, 'killCursors');
  if (!Array.isArray(cmd.cursors)) throw err('TypeMismatch', 'killCursors.cursors must be an array');
  const killed = [], notFound = [];
  for (const id of cmd.cursors) {
    const k = String(id);
    if (ctx.server.cursors.delete(k)) killed.push(id); else notFound.push(id);
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
}

// ---------- find ----------
const FIND_FIELDS = new Set(['filter', 'sort', 'projection', 'skip', 'limit', 'batchSize', 'singleBatch', 'hint', 'collation',
  'allowDiskUse', 'noCursorTimeout', 'allowPartialResults', 'let', 'readOnce', 'oplogReplay']);
const FIND_UNSUPPORTED = new Set(['tailable', 'awaitData', 'min', 'max', 'returnKey', 'showRecordId']);

function find(ctx, cmd) {
  const coll = collName(cmd, 'find');
  checkFields(cmd, ctx, FIND_FIELDS, FIND_UNSUPPORTED);
  checkCollation(cmd.collation);
  if (cmd.let !== undefined) throw err('BadValue', "mongo-standin: 'let' is not implemented");
  const filter = optDoc(cmd.filter, 'find.filter');
  const sort = optDoc(cmd.sort, 'find.sort');
  const projection = optDoc(cmd.projection, 'find.projection');
  const skip = optNum(cmd.skip, 'find.skip', 0);
  const limit = optNum(cmd.limit, 'find.limit', 0);
  const batchSize = optNum(cmd.batchSize, 'find.batchSize', undefined);
  if (skip < 0) throw err(51024, `BSON field 'skip' value must be >= 0, actual value '${skip}'`);
  if (limit < 0) throw err(51024, `BSON field 'limit' value must be >= 0, actual value '${limit}'`);
  if (batchSize !== undefined && batchSize < 0) throw err(51024, `BSON field 'batchSize' value must be >= 0, actual value '${batchSize}'`);
  const view = ctx.view(ctx.db, coll, ctx.txn);
  checkHint(view, cmd.hint);
  const { docs } = runQuery(view, filter, { sort, skip, limit, projection });
  return makeCursor(ctx, ctx.db + '.' + coll, docs, batchSize, !!cmd.singleBatch);
}

// ---------- insert ----------
function prepInsert(doc) {
  if (!isDocument(doc)) throw err('TypeMismatch', 'document to insert must be an object');
  if (doc._id === undefined) return { _id: new ObjectId(), ...doc };
  if (Array.isArray(doc._id)) throw err(53, "can't use an array for _id");
  if (doc._id instanceof RegExp || (doc._id && doc._id._bsontype === 'BSONRegExp')) throw err(53, "can't use a regex for _id");
  if (doc._id === null || doc._id === undefined) return doc;
  return doc;
}

function writeError(i, e) {
  const we = { index: i, code: e.code, errmsg: e.message };
  if (e.codeName) we.codeName = e.codeName;
  if (e.extra && e.extra.keyPattern) { we.keyPattern = e.extra.keyPattern; we.keyValue = e.extra.keyValue; }
  if (e.extra && e.extra.errInfo) we.errInfo = e.extra.errInfo;
  return we;
}

// Per-statement errors become writeErrors, except in a transaction where a
// write conflict aborts the whole command (MongoDB reports it top-level).
function asWriteError(ctx, i, e) {
  if (!(e instanceof MongoError)) throw e;
  if (ctx.txn && (e.code === 112 || e.code === 251)) throw e;
  return writeError(i, e);
}

async function insert(ctx, cmd) {
  const coll = collName(cmd, 'insert');
  checkFields(cmd, ctx, new Set(['documents', 'ordered', 'bypassDocumentValidation']));
  if (!Array.isArray(cmd.documents)) throw err('TypeMismatch', "BSON field 'insert.documents' is missing or not an array");
  if (cmd.documents.length > 100000) throw err('InvalidLength', 'Write batch sizes must be between 1 and 100000');
  const ordered = cmd.ordered !== false;
  const view = ctx.view(ctx.db, coll, ctx.txn, true);
  let n = 0;
  const writeErrors = [];
  for (let i = 0; i < cmd.documents.length; i++) {
    try {
      await view.insert(prepInsert(cmd.documents[i]));
      n++;
    } catch (e) {
      writeErrors.push(asWriteError(ctx, i, e));
      if (ordered) break;
    }
  }
  const r = { n, ok: 1 };
  if (writeErrors.length) r.writeErrors = writeErrors;
  return r;
}

// ---------- update ----------
function compileArrayFilters(afs) {
  if (afs === undefined) return null;
  if (!Array.isArray(afs)) throw err('TypeMismatch', 'arrayFilters must be an array');
  const out = {};
  for (const f of afs) {
    if (!isDocument(f) || !Object.keys(f).length) throw err('FailedToParse', 'Cannot use an expression without a top-level field name in arrayFilters');
    const ids = new Set(Object.keys(f).map((k) => k.split('.')[0]));
    if (ids.size !== 1) throw err('FailedToParse', 'Error parsing array filter :: caused by :: Expected a single top-level field name, found ' + [...ids].join(' and '));
    const id = [...ids][0];
    if (!/^[a-z][a-zA-Z0-9]*$/.test(id)) throw err('BadValue', `Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '${id}'`);
    if (out[id]) throw err('FailedToParse', `Found multiple array filters with the same top-level field name ${id}`);
    out[id] = compilePlainMatcher(f);
  }
  return out;
}

// Index of the array element the query matched, for the positional `$`.
function positionalFinder(filter, doc) {
  return (arrPath) => {
    const sub = {};
    const collect = (f) => {
      for (const [k, v] of Object.entries(f)) {
        if (k === '$and' && Array.isArray(v)) v.forEach(collect);
        else if (k === arrPath || k.startsWith(arrPath + '.')) sub[k] = v;
      }
    };
    collect(filter || {});
    const arr = getPath(doc, arrPath).find(Array.isArray);
    if (!Object.keys(sub).length || !arr) throw err('BadValue', 'The positional operator did not find the match needed from the query.');
    const m = compileMatcher(sub);
    const parts = arrPath.split('.');
    for (let i = 0; i < arr.length; i++) {
      const probe = {};
      let t = probe;
      for (let j = 0; j < parts.length - 1; j++) t = t[parts[j]] = {};
      t[parts[parts.length - 1]] = [arr[i]];
      if (m(probe)) return i;
    }
    throw err('BadValue', 'The positional operator did not find the match needed from the query.');
  };
}

function sameDoc(a, b) { return T.encode(a).equals(T.encode(b)); }

// Compute the updated version of `doc` (typed), checking _id immutability.
function updatedDoc(doc, u, filter, arrayFilters, insert) {
  let out;
  if (Array.isArray(u)) out = U.applyPipeline(doc, u);
  else if (U.isOperatorUpdate(u)) out = U.applyOperators(doc, u, { insert, arrayFilters, positional: positionalFinder(filter, doc) });
  else out = U.applyReplacement(doc, u);
  if (!insert && doc._id !== undefined && (out._id === undefined || keyOf(out._id) !== keyOf(doc._id) || T.typeRank(out._id) !== T.typeRank(doc._id))) {
    throw err('ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  if (out._id !== undefined && Object.keys(out)[0] !== '_id') { const { _id, ...rest } = out; out = { _id, ...rest }; }
  return out;
}

function upsertDoc(filter, u, arrayFilters) {
  const seed = U.seedFromQuery(filter);
  let doc;
  if (Array.isArray(u)) doc = U.applyPipeline(seed, u);
  else if (U.isOperatorUpdate(u)) doc = U.applyOperators(seed, u, { insert: true, arrayFilters, positional: () => { throw err('BadValue', 'The positional operator did not find the match needed from the query.'); } });
  else { doc = U.applyReplacement({}, u); if (seed._id !== undefined) doc._id = seed._id; }
  if (doc._id === undefined) doc = { _id: new ObjectId(), ...doc };
  else if (Object.keys(doc)[0] !== '_id') { const { _id, ...rest } = doc; doc = { _id, ...rest }; }
  return doc;
}

// Lock, re-read and write one document. compute(cur) returns the new
// version (null deletes) or undefined to leave it alone. A plain write whose
// new version meets a unique key held by an open transaction waits for that
// transaction and starts over (as MongoDB retries a write conflict).
// Returns undefined (left alone), false (matched, unchanged) or true.
async function rewrite(view, idKey, compute) {
  for (;;) {
    await view.lock(idKey);
    const cur = view.get(idKey);
    const nd = compute(cur);
    if (nd === undefined) return undefined;
    if (nd && cur && sameDoc(cur, nd)) return false;
    if (nd) { const w = view.waitKeys(nd); if (w) { await w; continue; } }
    view.write(idKey, nd);
    return true;
  }
}

const UPDATE_STMT_FIELDS = new Set(['q', 'u', 'upsert', 'multi', 'arrayFilters', 'hint', 'collation', 'c', 'sort', 'upsertSupplied']);

async function updateOne(ctx, view, st, res, i) {
  for (const k of Object.keys(st)) if (!UPDATE_STMT_FIELDS.has(k)) throw err(40415, `BSON field 'update.updates.${k}' is an unknown field.`);
  if (st.c !== undefined) throw err('BadValue', "mongo-standin: 'c' (let) is not implemented");
  const q = optDoc(st.q, 'q');
  const u = st.u;
  if (u === undefined) throw err(40414, "BSON field 'update.updates.u' is missing but a required field");
  U.validateUpdate(u);
  checkCollation(st.collation);
  checkHint(view, st.hint);
  const multi = !!st.multi;
  if (multi && !Array.isArray(u) && !U.isOperatorUpdate(u)) throw err('InvalidOptions', 'multi update is not supported for replacement-style update');
  const arrayFilters = compileArrayFilters(st.arrayFilters);
  const { rest } = textPart(view, q);
  const match = compileMatcher(rest);
  const cands = runQuery(view, q, { limit: multi ? 0 : 1, op: 'update' }).docs;
  let matched = 0, modified = 0;
  for (const d of cands) {
    if (ctx.interleave) await ctx.interleave(); // test switch: others may write between our read and write
    const r = await rewrite(view, keyOf(d._id), (cur) => {
      if (!cur || !match(cur)) return undefined; // changed while we waited
      return updatedDoc(cur, u, q, arrayFilters, false);
    });
    if (r === undefined) continue;
    matched++;
    if (r) modified++;
  }
  res.n += matched;
  res.nModified += modified;
  if (!matched && st.upsert) {
    const doc = upsertDoc(q, u, arrayFilters);
    if (ctx.interleave) await ctx.interleave();
    await view.insert(doc);
    res.n++;
    (res.upserted || (res.upserted = [])).push({ index: i, _id: doc._id });
  }
}

async function update(ctx, cmd) {
  const coll = collName(cmd, 'update');
  checkFields(cmd, ctx, new Set(['updates', 'ordered', 'bypassDocumentValidation', 'let']));
  if (cmd.let !== undefined) throw err('BadValue', "mongo-standin: 'let' is not implemented");
  if (!Array.isArray(cmd.updates)) throw err('TypeMismatch', "BSON field 'update.updates' is missing or not an array");
  const ordered = cmd.ordered !== false;
  const view = ctx.view(ctx.db, coll, ctx.txn, true);
  const res = { n: 0, nModified: 0 };
  const writeErrors = [];
  for (let i = 0; i < cmd.updates.length; i++) {
    try { await updateOne(ctx, view, cmd.updates[i], res, i); } catch (e) {
      writeErrors.push(asWriteError(ctx, i, e));
      if (ordered) break;
    }
  }
  const r = { n: res.n, nModified: res.nModified };
  if (res.upserted) r.upserted = res.upserted;
  if (writeErrors.length) r.writeErrors = writeErrors;
  r.ok = 1;
  return r;
}

// ---------- delete ----------
async function deleteCmd(ctx, cmd) {
  const coll = collName(cmd, 'delete');
  checkFields(cmd, ctx, new Set(['deletes', 'ordered', 'let']));
  if (cmd.let !== undefined) throw err('BadValue', "mongo-standin: 'let' is not implemented");
  if (!Array.isArray(cmd.deletes)) throw err('TypeMismatch', "BSON field 'delete.deletes' is missing or not an array");
  const ordered = cmd.ordered !== false;
  const view = ctx.view(ctx.db, coll, ctx.txn);
  let n = 0;
  const writeErrors = [];
  for (let i = 0; i < cmd.deletes.length; i++) {
    const st = cmd.deletes[i];
    try {
      for (const k of Object.keys(st)) if (!['q', 'limit', 'hint', 'collation'].includes(k)) throw err(40415, `BSON field 'delete.deletes.${k}' is an unknown field.`);
      const limit = optNum(st.limit, 'limit', undefined);
      if (limit !== 0 && limit !== 1) throw err('FailedToParse', 'The limit field in delete objects must be 0 or 1. Got ' + limit);
      checkCollation(st.collation);
      checkHint(view, st.hint);
      const q = optDoc(st.q, 'q');
      const { rest } = textPart(view, q);
      const match = compileMatcher(rest);
      const cands = runQuery(view, q, { limit: limit === 1 ? 1 : 0, op: 'delete' }).docs;
      for (const d of cands) {
        const idKey = keyOf(d._id);
        if (ctx.interleave) await ctx.interleave();
        await view.lock(idKey);
        const cur = view.get(idKey);
        if (!cur || !match(cur)) continue;
        view.write(idKey, null);
        n++;
      }
    } catch (e) {
      writeErrors.push(asWriteError(ctx, i, e));
      if (ordered) break;
    }
  }
  const r = { n };
  if (writeErrors.length) r.writeErrors = writeErrors;
  r.ok = 1;
  return r;
}

// ---------- findAndModify ----------
const FAM_FIELDS = new Set(['query', 'sort', 'remove', 'update', 'new', 'fields', 'upsert', 'arrayFilters', 'bypassDocumentValidation',
  'hint', 'collation', 'let']);

async function findAndModify(ctx, cmd, name) {
  const coll = collName(cmd, name);
  checkFields(cmd, ctx, FAM_FIELDS);
  if (cmd.let !== undefined) throw err('BadValue', "mongo-standin: 'let' is not implemented");
  checkCollation(cmd.collation);
  const q = optDoc(cmd.query, 'query');
  const sort = optDoc(cmd.sort, 'sort');
  const fields = optDoc(cmd.fields, 'fields');
  const remove = !!cmd.remove;
  const u = cmd.update;
  if (remove && u !== undefined) throw err('FailedToParse', 'Cannot specify both an update and remove=true');
  if (!remove && u === undefined) throw err('FailedToParse', 'Either an update or remove=true must be specified');
  if (remove && cmd.upsert) throw err('FailedToParse', 'Cannot specify both upsert=true and remove=true ');
  if (remove && cmd.new) throw err('FailedToParse', "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document");
  if (u !== undefined) U.validateUpdate(u);
  const arrayFilters = compileArrayFilters(cmd.arrayFilters);
  const view = ctx.view(ctx.db, coll, ctx.txn, !remove);
  checkHint(view, cmd.hint);
  const proj = compileProjection(fields, null);
  for (let attempt = 0; attempt < 20; attempt++) {
    const { docs } = runQuery(view, q, { sort, limit: 1, op: 'findAndModify' });
    const d = docs[0];
    if (!d) {
      if (remove || !cmd.upsert) return { lastErrorObject: remove ? { n: 0 } : { n: 0, updatedExisting: false }, value: null, ok: 1 };
      const doc = upsertDoc(q, u, arrayFilters);
      if (ctx.interleave) await ctx.interleave();
      await view.insert(doc);
      return { lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id }, value: cmd.new ? proj(doc) : null, ok: 1 };
    }
    const idKey = keyOf(d._id);
    if (ctx.interleave) await ctx.interleave();
    let cur = null, nd = null;
    const r = await rewrite(view, idKey, (c) => {
      cur = c;
      if (!c || !stillMatches(view, q, c)) return undefined; // changed meanwhile: search again
      nd = remove ? null : updatedDoc(c, u, q, arrayFilters, false);
      return nd;
    });
    if (r === undefined) continue;
    if (remove) return { lastErrorObject: { n: 1 }, value: proj(cur), ok: 1 };
    return { lastErrorObject: { n: 1, updatedExisting: true }, value: proj(cmd.new ? nd : cur), ok: 1 };
  }
  throw err('WriteConflict', 'WriteConflict error: findAndModify kept racing with concurrent writers');
}

// ---------- count / distinct ----------
function count(ctx, cmd) {
  const coll = collName(cmd, 'count');
  checkFields(cmd, ctx, new Set(['query', 'limit', 'skip', 'hint', 'collation', 'fields']));
  checkCollation(cmd.collation);
  const view = ctx.view(ctx.db, coll, ctx.txn);
  const q = optDoc(cmd.query, 'count.query');
  const skip = Math.max(0, optNum(cmd.skip, 'skip', 0));
  const limit = Math.abs(optNum(cmd.limit, 'limit', 0));
  let n;
  if (!Object.keys(q).length) n = view.count();
  else n = runQuery(view, q, { ordered: false, op: 'count' }).docs.length;
  n = Math.max(0, n - skip);
  if (limit) n = Math.min(n, limit);
  return { n, ok: 1 };
}

function distinct(ctx, cmd) {
  const coll = collName(cmd, 'distinct');
  checkFields(cmd, ctx, new Set(['key', 'query', 'collation', 'hint']));
  checkCollation(cmd.collation);
  if (typeof cmd.key !== 'string') throw err('TypeMismatch', "BSON field 'distinct.key' is missing or not a string");
  const view = ctx.view(ctx.db, coll, ctx.txn);
  const seen = new Map();
  for (const d of runQuery(view, optDoc(cmd.query, 'distinct.query'), { ordered: false, op: 'distinct' }).docs) {
    for (const v of getPath(d, cmd.key)) {
      for (const x of Array.isArray(v) ? v : [v]) { const k = keyOf(x); if (!seen.has(k)) seen.set(k, x); }
    }
  }
  const values = [...seen.values()].sort(compare).map(clone);
  return { values, ok: 1 };
}

module.exports = {
  find, getMore, killCursors, insert, update, delete: deleteCmd, findAndModify, findandmodify: findAndModify,
  count, distinct,
  _internal: { runQuery, stillMatches, textPart, makeCursor, checkFields, collName, optDoc, optNum, checkCollation },
};
