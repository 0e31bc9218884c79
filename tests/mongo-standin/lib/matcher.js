'use strict';
// Query matching: mingo evaluates filters on the plain view of a typed
// document (see types.js). The plain view of a stored document is cached:
// stored documents are never mutated in place (updates build new objects),
// so a WeakMap keyed by the document object stays valid.
require('mingo/init/system');
const mingo = require('mingo');
const { toPlain, isDocument } = require('./types');
const { err, MongoError } = require('./errors');

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

// Checks mingo does not do (it would crash or silently accept).
function validate(filter, depth = 0) {
  if (depth > 100) throw err('BadValue', 'filter nested too deeply');
  if (!isDocument(filter)) throw err('BadValue', 'filter must be an object');
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' || k === '$or' || k === '$nor') {
      if (!Array.isArray(v) || !v.length) throw err('BadValue', `${k} must be a nonempty array`);
      for (const s of v) validate(s, depth + 1);
    } else if (k === '$where') {
      throw err('BadValue', 'mongo-standin: $where is not implemented');
    } else if (k === '$text') {
      throw err('BadValue', '$text is only allowed at the top level of a find filter or a first $match stage');
    } else if (k === '$comment' || k === '$expr' || k === '$jsonSchema') {
      // passed to mingo
    } else if (k[0] === '$') {
      throw err('BadValue', `unknown top level operator: ${k}. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.`);
    } else if (isDocument(v) && Object.keys(v).some((x) => x[0] === '$')) {
      for (const [op, a] of Object.entries(v)) {
        if ((op === '$in' || op === '$nin' || op === '$all') && !Array.isArray(a)) throw err('BadValue', `${op} needs an array`);
        if (op === '$elemMatch' && !isDocument(a)) throw err('BadValue', '$elemMatch needs an Object');
        if (op === '$not' && !(isDocument(a) || a instanceof RegExp)) throw err('BadValue', '$not needs a regex or a document');
        if (op === '$near' || op === '$geoWithin' || op === '$geoIntersects' || op === '$nearSphere') throw err('BadValue', 'mongo-standin: geo operators are not implemented');
      }
    }
  }
}

function compileMatcher(filter) {
  if (!filter || !Object.keys(filter).length) return () => true;
  validate(filter);
  let q;
  try { q = new mingo.Query(toPlain(filter), MINGO_OPTS); } catch (e) { throw mapMingoError(e); }
  return (doc) => {
    try { return q.test(plainOf(doc)); } catch (e) { throw mapMingoError(e); }
  };
}

// Same, for an already-plain value (array elements in arrayFilters etc.)
function compilePlainMatcher(filter) {
  validate(filter);
  let q;
  try { q = new mingo.Query(toPlain(filter), MINGO_OPTS); } catch (e) { throw mapMingoError(e); }
  return (plain) => q.test(plain);
}

module.exports = { compileMatcher, compilePlainMatcher, plainOf, mapMingoError, mingo, MINGO_OPTS };
