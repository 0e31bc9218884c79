'use strict';
// Update operators, applied to typed documents so that BSON types survive:
// $inc/$mul follow MongoDB's widening rules (types.arith), $set stores the
// value with the type the client sent.
const T = require('./types');
const { clone, isDocument, numKind, arith, compare, keyOf, show, toPlain, Timestamp, Long } = T;
const { err } = require('./errors');
const { compilePlainMatcher, mingo, mapMingoError, MINGO_OPTS } = require('./matcher');

const OPS = new Set(['$set', '$unset', '$inc', '$mul', '$min', '$max', '$push', '$pull', '$pullAll', '$addToSet',
  '$pop', '$setOnInsert', '$currentDate', '$rename']);

function typeName(v) {
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'int';
  if (v instanceof Date) return 'date';
  const k = numKind(v);
  if (k) return k;
  if (v._bsontype) return v._bsontype.toLowerCase();
  return 'object';
}

function isOperatorUpdate(u) {
  if (Array.isArray(u)) return false;
  const ks = Object.keys(u);
  if (!ks.length) return false;
  const ops = ks.filter((k) => k[0] === '$');
  if (ops.length && ops.length !== ks.length) {
    throw err('FailedToParse', `Unknown modifier: ${ks.find((k) => k[0] !== '$')}. Expected a valid update modifier or pipeline-style update specified as an array`);
  }
  return ops.length > 0;
}

function validateUpdate(u) {
  if (Array.isArray(u)) return;
  if (!isDocument(u)) throw err('FailedToParse', 'Update argument must be either an object or an array');
  if (!isOperatorUpdate(u)) {
    for (const k of Object.keys(u)) if (k[0] === '$') throw err('BadValue', `The dollar ($) prefixed field '${k}' in '${k}' is not allowed in the context of an update's replacement document.`);
    return;
  }
  const paths = [];
  for (const [op, args] of Object.entries(u)) {
    if (!OPS.has(op)) throw err('FailedToParse', `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
    if (!isDocument(args)) throw err('FailedToParse', `Modifiers operate on fields but we found type ${typeName(args)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${show(args)}}`);
    for (const [p, a] of Object.entries(args)) {
      if (p === '') throw err('BadValue', 'An empty update path is not valid.');
      paths.push(p);
      if (op === '$rename') {
        if (typeof a !== 'string') throw err('BadValue', `The 'to' field for $rename must be a string: ${p}: ${show(a)}`);
        paths.push(a);
      }
      if ((op === '$inc' || op === '$mul') && !numKind(a)) {
        throw err('TypeMismatch', `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${p}: ${show(a)}}`);
      }
    }
  }
  // Two operators touching the same path (or a prefix of it) conflict.
  const norm = paths.map((p) => p.split('.').filter((x) => !/^\$(\[\w*\])?$/.test(x)).join('.'));
  for (let i = 0; i < norm.length; i++) {
    for (let j = 0; j < norm.length; j++) {
      if (i !== j && (norm[i] === norm[j] ? i < j : norm[j].startsWith(norm[i] + '.'))) {
        throw err('ConflictingUpdateOperators', `Updating the path '${paths[j]}' would create a conflict at '${paths[i]}'`);
      }
    }
  }
}

// Visit every target of a dotted path: cb(parent, key). `create` makes
// missing intermediate documents (for $set-like operators).
function resolve(obj, parts, i, ctx, create, cb) {
  const p = parts[i];
  const last = i === parts.length - 1;
  let keys;
  if (Array.isArray(obj)) {
    if (p === '$[]') keys = obj.map((_, j) => j);
    else if (/^\$\[\w+\]$/.test(p)) {
      const id = p.slice(2, -1);
      const m = ctx.arrayFilters && ctx.arrayFilters[id];
      if (!m) throw err('BadValue', `No array filter found for identifier '${id}' in path '${parts.join('.')}'`);
      ctx.usedFilters && ctx.usedFilters.add(id);
      keys = [];
      obj.forEach((e, j) => { if (m({ [id]: e })) keys.push(j); });
    } else if (p === '$') {
      keys = [ctx.positional(parts.slice(0, i).join('.'))];
    } else if (/^\d+$/.test(p)) keys = [Number(p)];
    else {
      if (!create) return;
      throw err('PathNotViable', `Cannot create field '${p}' in element {${parts[i - 1] || ''}: ${show(obj)}}`);
    }
  } else if (isDocument(obj)) {
    if (p === '$' || p.startsWith('$[')) {
      if (p === '$') throw err('BadValue', 'The positional operator did not find the match needed from the query.');
      throw err('BadValue', `Cannot apply array updates to non-array element ${parts[i - 1]}: ${show(obj)}`);
    }
    keys = [p];
  } else {
    if (!create) return;
    throw err('PathNotViable', `Cannot create field '${p}' in element {${parts[i - 1]}: ${show(obj)}}`);
  }
  for (const k of keys) {
    if (last) { cb(obj, k); continue; }
    let child = obj[k];
    if (child === undefined) {
      if (!create) continue;
      child = {};
      if (Array.isArray(obj)) while (obj.length < k) obj.push(null);
      obj[k] = child;
    }
    if (!isDocument(child) && !Array.isArray(child)) {
      if (!create) continue;
      throw err('PathNotViable', `Cannot create field '${parts[i + 1]}' in element {${k}: ${show(child)}}`);
    }
    resolve(child, parts, i + 1, ctx, create, cb);
  }
}

function setAt(parent, key, val) {
  if (Array.isArray(parent)) while (parent.length < key) parent.push(null);
  parent[key] = val;
}

function pushArgs(a) {
  if (isDocument(a) && a.$each !== undefined) {
    if (!Array.isArray(a.$each)) throw err('BadValue', 'The argument to $each in $push must be an array but it was of type: ' + typeName(a.$each));
    for (const k of Object.keys(a)) if (!['$each', '$slice', '$sort', '$position'].includes(k)) throw err('BadValue', `Unrecognized clause in $push: ${k}`);
    return a;
  }
  return { $each: [a] };
}

function pullMatcher(cond) {
  if (isDocument(cond)) {
    const ops = Object.keys(cond).some((k) => k[0] === '$');
    if (ops) { const m = compilePlainMatcher({ v: cond }); return (e) => m({ v: e }); }
    const m = compilePlainMatcher(cond);
    return (e) => isDocument(e) && m(e);
  }
  const k = keyOf(cond);
  return (e) => keyOf(e) === k;
}

function mustArray(cur, path, doc, op) {
  if (!Array.isArray(cur)) {
    throw err('BadValue', `The field '${path}' must be an array but is of type ${typeName(cur)} in document {_id: ${show(doc._id)}}`);
  }
}

// Apply an operator update to a copy of `doc`. ctx: {insert, arrayFilters,
// positional(arrayPath) -> index}. Returns the new document.
function applyOperators(doc, update, ctx) {
  const out = clone(doc);
  for (const [op, args] of Object.entries(update)) {
    if (op === '$setOnInsert' && !ctx.insert) continue;
    for (const [path, a] of Object.entries(args)) {
      const parts = path.split('.');
      const mod = (create, fn) => resolve(out, parts, 0, ctx, create, fn);
      switch (op) {
        case '$set': case '$setOnInsert':
          mod(true, (p, k) => setAt(p, k, clone(a)));
          break;
        case '$unset':
          mod(false, (p, k) => { if (Array.isArray(p)) { if (k < p.length) p[k] = null; } else delete p[k]; });
          break;
        case '$inc': case '$mul':
          mod(true, (p, k) => {
            const cur = p[k];
            if (cur === undefined) { setAt(p, k, op === '$inc' ? clone(a) : arith('mul', 0, a)); return; }
            if (!numKind(cur)) {
              throw err('TypeMismatch', `Cannot apply ${op} to a value of non-numeric type. {_id: ${show(doc._id)}} has the field '${k}' of non-numeric type ${typeName(cur)}`);
            }
            p[k] = arith(op === '$inc' ? 'add' : 'mul', cur, a);
          });
          break;
        case '$min': case '$max':
          mod(true, (p, k) => {
            const cur = p[k];
            const c = cur === undefined ? 0 : compare(a, cur);
            if (cur === undefined || (op === '$min' ? c < 0 : c > 0)) setAt(p, k, clone(a));
          });
          break;
        case '$currentDate': {
          let ts = false;
          if (isDocument(a)) {
            if (a.$type === 'timestamp') ts = true;
            else if (a.$type !== 'date') throw err('BadValue', "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}");
          } else if (typeof a !== 'boolean') throw err('BadValue', `${path} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).`);
          const v = ts ? new Timestamp({ t: Math.floor(Date.now() / 1000), i: 1 }) : new Date();
          mod(true, (p, k) => setAt(p, k, v));
          break;
        }
        case '$rename': {
          if (parts.some((x) => x[0] === '$' || /^\d+$/.test(x)) || a.split('.').some((x) => x[0] === '$')) {
            throw err('BadValue', 'The source field for $rename may not be dynamic: ' + path);
          }
          let val;
          resolve(out, parts, 0, ctx, false, (p, k) => { if (!Array.isArray(p) && k in p) { val = p[k]; delete p[k]; } });
          if (val !== undefined) resolve(out, a.split('.'), 0, ctx, true, (p, k) => setAt(p, k, val));
          break;
        }
        case '$push': {
          const pa = pushArgs(a);
          mod(true, (p, k) => {
            let cur = p[k];
            if (cur === undefined) cur = [];
            else mustArray(cur, path, doc, op);
            cur = cur.slice();
            const items = pa.$each.map(clone);
            if (pa.$position !== undefined) {
              let pos = T.toNumber(pa.$position);
              if (pos < 0) pos = Math.max(0, cur.length + pos);
              cur.splice(pos, 0, ...items);
            } else cur.push(...items);
            if (pa.$sort !== undefined) {
              if (isDocument(pa.$sort)) {
                const spec = Object.entries(pa.$sort);
                cur.sort((x, y) => {
                  for (const [f, d] of spec) {
                    const c = compare(T.getFirst(x, f), T.getFirst(y, f)) * T.toNumber(d);
                    if (c) return c;
                  }
                  return 0;
                });
              } else { const d = T.toNumber(pa.$sort); cur.sort((x, y) => compare(x, y) * d); }
            }
            if (pa.$slice !== undefined) {
              const n = T.toNumber(pa.$slice);
              cur = n >= 0 ? cur.slice(0, n) : cur.slice(Math.max(0, cur.length + n));
            }
            setAt(p, k, cur);
          });
          break;
        }
        case '$addToSet': {
          const items = isDocument(a) && a.$each !== undefined ? a.$each : [a];
          if (!Array.isArray(items)) throw err('TypeMismatch', 'The argument to $each in $addToSet must be an array');
          mod(true, (p, k) => {
            let cur = p[k];
            if (cur === undefined) cur = [];
            else mustArray(cur, path, doc, op);
            cur = cur.slice();
            const have = new Set(cur.map(keyOf));
            for (const it of items) { const kk = keyOf(it); if (!have.has(kk)) { have.add(kk); cur.push(clone(it)); } }
            setAt(p, k, cur);
          });
          break;
        }
        case '$pull': case '$pullAll': {
          let m;
          if (op === '$pullAll') {
            if (!Array.isArray(a)) throw err('BadValue', '$pullAll requires an array argument but was given a ' + typeName(a));
            const ks = new Set(a.map(keyOf));
            m = (e) => ks.has(keyOf(e));
          } else m = pullMatcher(a);
          mod(false, (p, k) => {
            const cur = p[k];
            if (cur === undefined) return;
            if (!Array.isArray(cur)) throw err('BadValue', 'Cannot apply $pull to a non-array value');
            p[k] = cur.filter((e) => !m(e));
          });
          break;
        }
        case '$pop':
          mod(false, (p, k) => {
            const cur = p[k];
            if (cur === undefined) return;
            mustArray(cur, path, doc, op);
            p[k] = T.toNumber(a) >= 0 ? cur.slice(0, -1) : cur.slice(1);
          });
          break;
        default:
          throw err('FailedToParse', `Unknown modifier: ${op}`);
      }
    }
  }
  return out;
}

// Pipeline-style update ([{$set: ...}, ...]) on the typed document
// (lib/pipeline.js), so numbers keep their BSON types exactly.
const PIPE_STAGES = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);
function applyPipeline(doc, pipeline) {
  for (const st of pipeline) {
    const name = isDocument(st) && Object.keys(st)[0];
    if (!PIPE_STAGES.has(name)) throw err('InvalidOptions', `${name} is not allowed to be used within an update`);
  }
  const out = require('./pipeline').run(pipeline, [doc], { hints: new Map(), resolve: () => [] });
  // the stages share unchanged sub-documents with the stored version; the
  // caller may edit the result, so it gets its own copy
  return clone(out[0]);
}

// Build the document an upsert inserts, from the equality parts of the query.
function seedFromQuery(filter) {
  const out = {};
  const put = (path, v) => {
    if (path[0] === '$') return;
    try { resolve(out, path.split('.'), 0, {}, true, (p, k) => setAt(p, k, clone(v))); } catch (e) { /* ignore unviable */ }
  };
  const walkQ = (f) => {
    for (const [k, v] of Object.entries(f)) {
      if (k === '$and') { for (const s of v) walkQ(s); continue; }
      if (k[0] === '$') continue;
      if (isDocument(v) && Object.keys(v).some((x) => x[0] === '$')) {
        if (v.$eq !== undefined) put(k, v.$eq);
        else if (Array.isArray(v.$in) && v.$in.length === 1) put(k, v.$in[0]);
        continue;
      }
      if (v instanceof RegExp) continue;
      put(k, v);
    }
  };
  walkQ(filter || {});
  return out;
}

// Replacement update: keep the original _id (first).
function applyReplacement(doc, repl) {
  const out = {};
  if (doc._id !== undefined) out._id = clone(doc._id);
  for (const [k, v] of Object.entries(repl)) {
    if (k === '_id') {
      if (doc._id !== undefined && keyOf(v) !== keyOf(doc._id)) {
        throw err('ImmutableField', `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${show(v)}`);
      }
      if (doc._id === undefined) out._id = clone(v);
      continue;
    }
    out[k] = clone(v);
  }
  return out;
}

module.exports = { validateUpdate, isOperatorUpdate, applyOperators, applyPipeline, applyReplacement, seedFromQuery, Long };
