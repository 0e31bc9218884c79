'use strict';
// Query matching on typed documents (see types.js), with MongoDB's rules:
// - a path fans out over arrays (a.b on [{b: 1}, {b: 2}]) and a predicate
//   holds when it holds for a value or, for an array value, for one of its
//   elements; a numeric path part indexes an array;
// - comparisons stay inside a type bracket ({$gt: 5} never matches a
//   string) and numbers compare exactly across int32/int64/double
//   (an int64 above 2^53 keeps every digit);
// - $type tells int, long, double and decimal apart;
// - $expr is evaluated by lib/expr.js, $jsonSchema by lib/schema.js.
// mingo is still used by the aggregation fallback (lib/pipeline.js), so its
// error mapping lives here too.
require('mingo/init/system');
const mingo = require('mingo');
const T = require('./types');
const { toPlain, isDocument, compare, typeRank, numKind, toNumber } = T;
const { err, MongoError } = require('./errors');
const { compileTopSchema, bsonTypeOf } = require('./schema');

const plainCache = new WeakMap();
function plainOf(doc) {
  let p = plainCache.get(doc);
  if (p === undefined) { p = toPlain(doc); plainCache.set(doc, p); }
  return p;
}

const MINGO_OPTS = { scriptEnabled: false, idKey: '_id' };

// Turn a mingo exception into the error MongoDB would return.
function mapMingoError(e, where) {
  if (e instanceof MongoError) return e;
  const m = String(e && e.message || e);
  let r;
  if ((r = /unknown query operator (\$\w+)/.exec(m))) return err('BadValue', 'unknown operator: ' + r[1]);
  if ((r = /unknown top level operator:? (\$\w+)/.exec(m))) return err('BadValue', `unknown top level operator: ${r[1]}. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.`);
  if ((r = /unregistered pipeline operator (\$\w+)/.exec(m))) return err(40324, `Unrecognized pipeline stage name: '${r[1]}'`);
  if ((r = /accumulator '(\$\w+)' is not registered/.exec(m))) return err(15952, `unknown group operator '${r[1]}'`);
  if ((r = /(?:operator|expression) '?(\$\w+)'? (?:is not registered|not found)/.exec(m))) return err('InvalidPipelineOperator', `Unrecognized expression '${r[1]}'`);
  if ((r = /unregistered .* operator '?(\$\w+)/.exec(m))) return err('InvalidPipelineOperator', `Unrecognized expression '${r[1]}'`);
  return err('BadValue', (where ? where + ': ' : '') + m);
}

const MISSING = Symbol('missing');
const TYPE_CODES = {
  1: 'double', 2: 'string', 3: 'object', 4: 'array', 5: 'binData', 6: 'undefined', 7: 'objectId', 8: 'bool', 9: 'date',
  10: 'null', 11: 'regex', 12: 'dbPointer', 13: 'javascript', 14: 'symbol', 15: 'javascriptWithScope', 16: 'int',
  17: 'timestamp', 18: 'long', 19: 'decimal', '-1': 'minKey', 127: 'maxKey',
};
const TYPE_NAMES = new Set([...Object.values(TYPE_CODES), 'number']);

// Values at a path (MISSING where a path ends early), MongoDB style.
function leaves(v, parts, i, out) {
  if (i === parts.length) { out.push(v); return; }
  if (Array.isArray(v)) {
    const p = parts[i];
    if (/^\d+$/.test(p)) {
      if (+p < v.length) leaves(v[+p], parts, i + 1, out);
      else out.push(MISSING);
      // an element that is a document may also have a field named "0"
      for (const e of v) if (isDocument(e) && Object.prototype.hasOwnProperty.call(e, p)) leaves(e[p], parts, i + 1, out);
      return;
    }
    for (const e of v) {
      if (isDocument(e)) leaves(e, parts, i, out);
      // arrays directly inside arrays are not traversed by field paths
    }
    if (!v.length) out.push(MISSING);
    return;
  }
  if (!isDocument(v) || !Object.prototype.hasOwnProperty.call(v, parts[i])) { out.push(MISSING); return; }
  leaves(v[parts[i]], parts, i + 1, out);
}

const isRegex = (v) => v instanceof RegExp || (v && v._bsontype === 'BSONRegExp');
function toRegExp(v, opts) {
  if (v instanceof RegExp) return opts ? new RegExp(v.source, jsFlags(opts)) : v;
  if (v && v._bsontype === 'BSONRegExp') return new RegExp(v.pattern, jsFlags(opts !== undefined ? opts : v.options));
  if (typeof v !== 'string') throw err('BadValue', '$regex has to be a string');
  return new RegExp(v, jsFlags(opts || ''));
}
function jsFlags(o) {
  let f = '';
  for (const c of o || '') {
    if (c === 'i' || c === 'm' || c === 's') { if (!f.includes(c)) f += c; } else if (c === 'x' || c === 'u') { /* x: not supported by JS; ignored */ } else if (c === 'g') { /* never global */ } else throw err(51108, `invalid flag in regex options: ${c}`);
  }
  return f;
}

// Equality of a stored value with a query value (one element, no fan-out).
function eqValue(x, t) {
  if (t === null) return x === MISSING || x === null || x === undefined;
  if (x === MISSING) return false;
  if (typeRank(x) !== typeRank(t)) return false;
  return compare(x, t) === 0;
}

// Comparison inside a type bracket; null/MinKey/MaxKey as in MongoDB.
function cmpBracket(x, t, ok) {
  if (x === MISSING) x = null;
  if (t === null) return x === null || x === undefined ? ok(0) : false;
  if (t && t._bsontype === 'MinKey') return ok(compare(x, t));
  if (t && t._bsontype === 'MaxKey') return ok(compare(x, t));
  if (x === null || x === undefined) return false;
  if (typeRank(x) !== typeRank(t)) return false;
  return ok(compare(x, t));
}

function matchesType(x, types) {
  if (x === MISSING) return false;
  const t = bsonTypeOf(x);
  for (const want of types) {
    if (want === t) return true;
    if (want === 'number' && numKind(x)) return true;
  }
  return false;
}

function parseTypes(a) {
  const arr = Array.isArray(a) ? a : [a];
  return arr.map((t) => {
    if (typeof t === 'string') { if (!TYPE_NAMES.has(t)) throw err('BadValue', `Unknown type name alias: ${t}`); return t; }
    if (numKind(t)) { const n = toNumber(t); const name = TYPE_CODES[n]; if (!name) throw err('BadValue', `Invalid numerical type code: ${n}`); return name; }
    throw err('TypeMismatch', 'type must be represented as a number or a string');
  });
}

// Compile the operators of one field: {$gt: 1, $lt: 5} -> (leafList) => bool.
// Element predicates get each value and each element of array values.
function compileOps(ops, path) {
  const preds = [];
  const elem = (p) => preds.push((ls) => ls.some((x) => p(x) || (Array.isArray(x) && x.some((e) => p(e)))));
  for (const [op, a] of Object.entries(ops)) {
    switch (op) {
      case '$eq':
        if (Array.isArray(a)) preds.push((ls) => ls.some((x) => eqValue(x, a) || (Array.isArray(x) && x.some((e) => eqValue(e, a)))));
        else elem((x) => eqValue(x, a));
        break;
      case '$ne': {
        const m = compileOps({ $eq: a }, path);
        preds.push((ls) => !m(ls));
        break;
      }
      case '$gt': elem((x) => cmpBracket(x, a, (c) => c > 0)); break;
      case '$gte': elem((x) => cmpBracket(x, a, (c) => c >= 0)); break;
      case '$lt': elem((x) => cmpBracket(x, a, (c) => c < 0)); break;
      case '$lte': elem((x) => cmpBracket(x, a, (c) => c <= 0)); break;
      case '$in': case '$nin': {
        if (!Array.isArray(a)) throw err('BadValue', `${op} needs an array`);
        const res = a.filter(isRegex).map((r) => toRegExp(r));
        const vals = a.filter((v) => !isRegex(v));
        if (vals.some((v) => isDocument(v) && Object.keys(v).some((k) => k[0] === '$'))) throw err('BadValue', 'cannot nest $ under $in');
        const hit = (x) => vals.some((v) => eqValue(x, v)) || (typeof x === 'string' && res.some((r) => r.test(x)));
        const m = (ls) => ls.some((x) => hit(x) || (Array.isArray(x) && (x.some(hit) || vals.some((v) => Array.isArray(v) && compare(x, v) === 0))));
        preds.push(op === '$in' ? m : (ls) => !m(ls));
        break;
      }
      case '$exists': {
        const want = typeof a === 'boolean' ? a : numKind(a) ? toNumber(a) !== 0 : a !== null && a !== undefined;
        preds.push((ls) => ls.some((x) => x !== MISSING) === want);
        break;
      }
      case '$type': {
        const types = parseTypes(a);
        preds.push((ls) => ls.some((x) => matchesType(x, types) || (Array.isArray(x) && x.some((e) => matchesType(e, types)))));
        break;
      }
      case '$regex': {
        const r = toRegExp(a, ops.$options);
        elem((x) => (typeof x === 'string' && r.test(x)) || (isRegex(x) && String(x) === String(r)));
        break;
      }
      case '$options':
        if (ops.$regex === undefined) throw err('BadValue', '$options needs a $regex');
        break;
      case '$size': {
        if (!numKind(a) || !Number.isInteger(toNumber(a)) || toNumber(a) < 0) throw err('BadValue', '$size needs a number');
        const n = toNumber(a);
        preds.push((ls) => ls.some((x) => Array.isArray(x) && x.length === n));
        break;
      }
      case '$all': {
        if (!Array.isArray(a)) throw err('BadValue', '$all needs an array');
        if (!a.length) { preds.push(() => false); break; }
        const subs = a.map((v) => (isDocument(v) && v.$elemMatch !== undefined ? compileOps(v, path) : compileOps(isRegex(v) ? { $regex: v } : { $eq: v }, path)));
        preds.push((ls) => subs.every((m) => m(ls)));
        break;
      }
      case '$elemMatch': {
        if (!isDocument(a)) throw err('BadValue', '$elemMatch needs an Object');
        const ks = Object.keys(a);
        const opsOnly = ks.length && ks.every((k) => k[0] === '$' && !['$and', '$or', '$nor', '$expr', '$where', '$text', '$jsonSchema'].includes(k));
        const m = opsOnly ? compileOps(a, path) : compileFilter(a, 1);
        preds.push((ls) => ls.some((x) => Array.isArray(x) && x.some((e) => (opsOnly ? m([e]) : isDocument(e) && m(e)))));
        break;
      }
      case '$mod': {
        if (!Array.isArray(a) || a.length !== 2 || !numKind(a[0]) || !numKind(a[1])) throw err('BadValue', 'malformed mod, needs to be an array of two numbers');
        const d = T.toBigInt(a[0]), r = T.toBigInt(a[1]);
        if (d === 0n) throw err('BadValue', 'divisor cannot be 0');
        elem((x) => x !== MISSING && numKind(x) !== null && Number.isFinite(toNumber(x)) && T.toBigInt(x) % d === r);
        break;
      }
      case '$not': {
        let m;
        if (isRegex(a)) m = compileOps({ $regex: a }, path);
        else if (isDocument(a) && Object.keys(a).length && Object.keys(a).every((k) => k[0] === '$')) m = compileOps(a, path);
        else throw err('BadValue', '$not needs a regex or a document');
        preds.push((ls) => !m(ls));
        break;
      }
      case '$comment': break;
      case '$near': case '$nearSphere': case '$geoWithin': case '$geoIntersects':
        throw err('BadValue', 'mongo-standin: geo operators are not implemented');
      case '$bitsAllSet': case '$bitsAnySet': case '$bitsAllClear': case '$bitsAnyClear':
        throw err('BadValue', `mongo-standin: ${op} is not implemented`);
      default:
        throw err('BadValue', 'unknown operator: ' + op);
    }
  }
  return (ls) => preds.every((p) => p(ls));
}

function compileField(path, cond) {
  const parts = path.split('.');
  let m;
  if (isDocument(cond) && Object.keys(cond).length && Object.keys(cond)[0][0] === '$') m = compileOps(cond, path);
  else if (isRegex(cond)) m = compileOps({ $regex: cond }, path);
  else m = compileOps({ $eq: cond }, path);
  return (doc) => { const ls = []; leaves(doc, parts, 0, ls); return m(ls); };
}

function compileFilter(filter, depth) {
  if (depth > 100) throw err('BadValue', 'filter nested too deeply');
  if (!isDocument(filter)) throw err('BadValue', 'filter must be an object');
  const preds = [];
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' || k === '$or' || k === '$nor') {
      if (!Array.isArray(v) || !v.length) throw err('BadValue', `${k} must be a nonempty array`);
      const subs = v.map((s) => { if (!isDocument(s)) throw err('BadValue', `${k} argument's entries must be objects`); return compileFilter(s, depth + 1); });
      if (k === '$and') preds.push((d) => subs.every((s) => s(d)));
      else if (k === '$or') preds.push((d) => subs.some((s) => s(d)));
      else preds.push((d) => !subs.some((s) => s(d)));
    } else if (k === '$where') {
      throw err('BadValue', 'mongo-standin: $where is not implemented');
    } else if (k === '$text') {
      throw err('BadValue', '$text is only allowed at the top level of a find filter or a first $match stage');
    } else if (k === '$comment') {
      // ignored
    } else if (k === '$expr') {
      const { compileExpr, truthy } = require('./expr');
      const e = compileExpr(v);
      preds.push((d) => truthy(e(d, d)));
    } else if (k === '$jsonSchema') {
      const s = compileTopSchema(v);
      preds.push((d) => !s(d));
    } else if (k === '$alwaysTrue' || k === '$alwaysFalse') {
      const r = k === '$alwaysTrue';
      preds.push(() => r);
    } else if (k[0] === '$') {
      throw err('BadValue', `unknown top level operator: ${k}. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.`);
    } else {
      preds.push(compileField(k, v));
    }
  }
  if (preds.length === 1) return preds[0];
  return (d) => { for (const p of preds) if (!p(d)) return false; return true; };
}

// (doc) => bool over a typed document.
function compileMatcher(filter) {
  if (!filter || !Object.keys(filter).length) return () => true;
  return compileFilter(filter, 0);
}

// Same matcher; kept for callers that match array elements wrapped in a
// document ({id: element} for arrayFilters). Values are typed too.
function compilePlainMatcher(filter) {
  return compileFilter(filter, 0);
}

module.exports = { compileMatcher, compilePlainMatcher, plainOf, mapMingoError, mingo, MINGO_OPTS, leaves, MISSING, eqValue, toRegExp };
