'use strict';
// Sort and projection on typed documents (so projected documents keep their
// BSON types and field order, like MongoDB's).
const { compare, getPath, isDocument, clone, toNumber, numKind, Double } = require('./types');
const { err } = require('./errors');
const { compilePlainMatcher } = require('./matcher');

const isMeta = (v) => isDocument(v) && Object.keys(v).length === 1 && v.$meta !== undefined;

// compare() with a shortcut for two ObjectIds (the bytes, without the copies
// compare() makes): the same order, for the sort keys compared most.
function cmpVal(a, b) {
  if (a && b && a._bsontype === 'ObjectId' && b._bsontype === 'ObjectId') return Buffer.compare(a.id, b.id);
  return compare(a, b);
}

// A sort as {extract(doc) -> keys, cmpKeys(ka, kb)}, or null for no sort:
// callers that sort many documents extract each one's keys once.
// scoreOf(doc) gives the text score for {$meta: "textScore"} keys.
function compileSortKeys(sort, scoreOf) {
  if (!sort || !Object.keys(sort).length) return null;
  const keys = [];
  for (const [f, v] of Object.entries(sort)) {
    if (isMeta(v)) {
      if (v.$meta !== 'textScore') throw err(31138, `Illegal $meta sort: ${v.$meta}`);
      if (!scoreOf) throw err('BadValue', 'query requires text score metadata, but it is not available');
      keys.push({ meta: true });
      continue;
    }
    const n = numKind(v) ? toNumber(v) : NaN;
    if (n !== 1 && n !== -1) throw err(15975, '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
    keys.push({ f, dir: n });
  }
  const sortKey = (doc, f, dir) => {
    const vals = [];
    for (const v of getPath(doc, f)) {
      if (Array.isArray(v)) { if (v.length) vals.push(...v); else vals.push(undefined); } else vals.push(v);
    }
    if (!vals.length) return null;
    let best = vals[0];
    for (const v of vals) { const c = compare(v, best); if (dir > 0 ? c < 0 : c > 0) best = v; }
    return best;
  };
  const n = keys.length;
  return {
    extract: (doc) => keys.map((k) => (k.meta ? scoreOf(doc) || 0 : sortKey(doc, k.f, k.dir))),
    cmpKeys: (ka, kb) => {
      for (let i = 0; i < n; i++) {
        const k = keys[i];
        const c = k.meta ? kb[i] - ka[i] : cmpVal(ka[i], kb[i]) * k.dir;
        if (c) return c < 0 ? -1 : 1;
      }
      return 0;
    },
  };
}

// Returns a comparator over documents, or null for no sort.
// scoreOf(doc) gives the text score for {$meta: "textScore"} keys.
function compileSort(sort, scoreOf) {
  const sk = compileSortKeys(sort, scoreOf);
  if (!sk) return null;
  const cmp = (a, b) => sk.cmpKeys(sk.extract(a), sk.extract(b));
  cmp.keys = sk;
  return cmp;
}

function setTree(tree, path, val) {
  const parts = path.split('.');
  let t = tree;
  for (let i = 0; i < parts.length - 1; i++) {
    if (t[parts[i]] === true) return; // parent already fully included
    if (typeof t[parts[i]] !== 'object') t[parts[i]] = {};
    t = t[parts[i]];
  }
  t[parts[parts.length - 1]] = val;
}

function include(doc, tree) {
  const out = {};
  for (const k of Object.keys(doc)) {
    const node = tree[k];
    if (node === undefined) continue;
    const v = doc[k];
    if (node === true) out[k] = clone(v);
    else if (isDocument(v)) out[k] = include(v, node);
    else if (Array.isArray(v)) out[k] = includeArr(v, node);
  }
  return out;
}
function includeArr(arr, node) {
  const out = [];
  for (const e of arr) {
    if (isDocument(e)) out.push(include(e, node));
    else if (Array.isArray(e)) out.push(includeArr(e, node));
  }
  return out;
}
function exclude(doc, tree) {
  const out = {};
  for (const k of Object.keys(doc)) {
    const node = tree[k];
    const v = doc[k];
    if (node === true) continue;
    if (node === undefined) out[k] = clone(v);
    else if (isDocument(v)) out[k] = exclude(v, node);
    else if (Array.isArray(v)) out[k] = v.map((e) => (isDocument(e) ? exclude(e, node) : clone(e)));
    else out[k] = clone(v);
  }
  return out;
}

function sliceArr(arr, s) {
  if (Array.isArray(s)) {
    let [skip, lim] = s.map(toNumber);
    if (skip < 0) skip = Math.max(0, arr.length + skip);
    return arr.slice(skip, skip + lim);
  }
  const n = toNumber(s);
  return n >= 0 ? arr.slice(0, n) : arr.slice(Math.max(0, arr.length + n));
}

function applyAt(doc, path, fn) {
  const parts = path.split('.');
  let t = doc;
  for (let i = 0; i < parts.length - 1; i++) { t = t[parts[i]]; if (!isDocument(t)) return; }
  const last = parts[parts.length - 1];
  if (Object.prototype.hasOwnProperty.call(t, last)) fn(t, last);
}

// Returns fn(doc) -> projected copy. scoreOf as in compileSort.
function compileProjection(proj, scoreOf) {
  if (!proj || !Object.keys(proj).length) return (d) => d;
  const incTree = {}, excTree = {};
  let mode = null, idMode = null;
  const metas = [], slices = [], elemMatches = [];
  let needsMingo = false;
  for (const [f, v] of Object.entries(proj)) {
    if (f.endsWith('.$')) throw err('BadValue', 'mongo-standin: positional projection (field.$) is not implemented');
    if (isMeta(v)) {
      if (v.$meta !== 'textScore') throw err('BadValue', `mongo-standin: $meta "${v.$meta}" is not implemented`);
      if (!scoreOf) throw err('BadValue', 'query requires text score metadata, but it is not available');
      metas.push(f);
      continue;
    }
    if (isDocument(v) && v.$slice !== undefined && Object.keys(v).length === 1) { slices.push([f, v.$slice]); continue; }
    if (isDocument(v) && v.$elemMatch !== undefined && Object.keys(v).length === 1) {
      elemMatches.push([f, compilePlainMatcher(v.$elemMatch)]);
      if (mode === 'exc') throw err(31254, `Cannot do inclusion on field ${f} in exclusion projection`);
      mode = 'inc';
      setTree(incTree, f, true);
      continue;
    }
    if (typeof v === 'boolean' || numKind(v)) {
      const on = typeof v === 'boolean' ? v : toNumber(v) !== 0;
      if (f === '_id') { idMode = on; continue; }
      if (on) {
        if (mode === 'exc') throw err(31253, `Cannot do inclusion on field ${f} in exclusion projection`);
        mode = 'inc'; setTree(incTree, f, true);
      } else {
        if (mode === 'inc') throw err(31254, `Cannot do exclusion on field ${f} in inclusion projection`);
        mode = 'exc'; setTree(excTree, f, true);
      }
      continue;
    }
    needsMingo = true; // computed fields: typed expressions (lib/expr.js)
  }
  let computed = null;
  if (needsMingo) {
    const spec = {};
    for (const [f, v] of Object.entries(proj)) {
      if (isMeta(v) || (isDocument(v) && v.$slice !== undefined && Object.keys(v).length === 1)) continue;
      spec[f] = isDocument(v) && v.$elemMatch !== undefined && Object.keys(v).length === 1 ? 1 : v;
    }
    computed = require('./pipeline').compileProject(spec, 'projection');
  }
  return (doc) => {
    let out;
    // computed output shares sub-documents with the stored one: copy
    // before the in-place edits below
    if (computed) out = slices.length || elemMatches.length ? clone(computed(doc)) : computed(doc);
    else if (mode === 'inc') {
      out = include(doc, incTree);
      if (idMode !== false && doc._id !== undefined && out._id === undefined) out = { _id: clone(doc._id), ...out };
    } else {
      out = exclude(doc, excTree);
      if (idMode === false) delete out._id;
    }
    for (const [f, s] of slices) applyAt(out, f, (t, k) => { if (Array.isArray(t[k])) t[k] = sliceArr(t[k], s); });
    for (const [f, m] of elemMatches) {
      applyAt(out, f, (t, k) => {
        if (!Array.isArray(t[k])) { delete t[k]; return; }
        const hit = t[k].find((e) => isDocument(e) && m(e));
        if (hit === undefined) delete t[k]; else t[k] = [hit];
      });
    }
    for (const f of metas) out[f] = new Double(scoreOf(doc) || 0);
    return out;
  };
}

module.exports = { compileSort, compileSortKeys, compileProjection, isMeta };
