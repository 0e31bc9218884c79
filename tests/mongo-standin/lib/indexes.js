'use strict';
// Index specs and key extraction. A regular index is kept twice:
// Map<keyString, Set<idKey>> for unique checks, and an ordered list of
// entries {k: [typed key values], r: natural rank, id: idKey} sorted by the
// key pattern (directions included) and then by the document's natural
// rank, which the query planner (lib/planner.js) scans. A text index keeps
// postings term -> Set<idKey>. Both are maintained by Collection.commitWrite
// on every committed write; transactions' own writes live in their overlay
// until commit, so an abort has nothing to undo here.
const { keyOf, getPath, show, isDocument, toNumber, numKind, compare } = require('./types');
const { err } = require('./errors');
const { compileMatcher } = require('./matcher');
const { SortedList } = require('./sortedlist');

const UNSUPPORTED_TYPES = new Set(['2d', '2dsphere', 'hashed', 'geoHaystack', 'wildcard']);
const KNOWN_OPTIONS = new Set(['key', 'name', 'unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds',
  'weights', 'default_language', 'language_override', 'textIndexVersion', 'v', 'background', 'hidden', 'collation', 'ns']);

// keyOf() for unique indexes (their map is what duplicate checks read);
// for the others a cheaper, still deterministic signature: equal values of
// one type get one string (it only dedups a document's own values and
// tells whether an update changed its keys; two spellings of one number
// just give two entries, which scans dedup).
function cheapSig(v) {
  switch (typeof v) {
    case 'string': return 's' + v;
    case 'number': return 'n' + v;
    case 'boolean': return v ? 'T' : 'F';
    case 'undefined': return 'u';
  }
  if (v === null) return 'z';
  if (v instanceof Date) return 'd' + v.getTime();
  switch (v._bsontype) {
    case 'Long': return 'L' + v.high + '.' + v.low;
    case 'Int32': case 'Double': return 'n' + v.value;
    case 'ObjectId': return 'o' + v.id.toString('hex');
  }
  return 'k' + keyOf(v);
}

class Index {
  constructor(spec) {
    this.spec = spec;
    this.name = spec.name;
    this.unique = !!spec.unique;
    this.sparse = !!spec.sparse;
    this.isText = !!spec.weights;
    this.fields = this.isText ? [] : Object.keys(spec.key);
    this.partial = spec.partialFilterExpression ? compileMatcher(spec.partialFilterExpression) : null;
    this.ttl = spec.expireAfterSeconds !== undefined ? toNumber(spec.expireAfterSeconds) : null;
    this.map = new Map(); // keyString -> Set<idKey>
    // unique keys written by open transactions: keyString -> Transaction
    this.pending = new Map();
    this.dirs = this.fields.map((f) => (toNumber(spec.key[f]) < 0 ? -1 : 1));
    const dirs = this.dirs, n = this.fields.length;
    this.cmpEntry = (a, b) => {
      for (let i = 0; i < n; i++) { const c = compare(a.k[i], b.k[i]); if (c) return c * dirs[i]; }
      return a.r - b.r;
    };
    this.entries = new SortedList(this.cmpEntry);
    // per key field: how many indexed documents have more than one key value
    // there (an array): such a field cannot give a sort order
    this.multi = this.fields.map(() => 0);
    this.postings = this.isText ? new Map() : null; // term -> Set<idKey>
    this.usable = !this.isText && !this.partial && !this.sparse && !spec.hidden; // the planner may scan it
  }

  // Key tuples of a document: {s: keyString, k: [values]} per combination,
  // and which fields had several values (multikey).
  keyTuples(doc) {
    const sig = this.unique ? keyOf : cheapSig;
    if (this.isText || (this.partial && !this.partial(doc))) return { list: [], multi: null };
    let combos = [{ s: '', k: [] }];
    let present = false;
    const multi = [];
    for (let i = 0; i < this.fields.length; i++) {
      const vals = [];
      for (const v of getPath(doc, this.fields[i])) {
        if (Array.isArray(v)) { if (v.length) vals.push(...v); else vals.push(undefined); } else vals.push(v);
      }
      if (vals.length) present = true; else vals.push(null);
      const seen = new Map();
      for (const v of vals) { const k = sig(v); if (!seen.has(k)) seen.set(k, v); }
      multi.push(seen.size > 1);
      const next = [];
      for (const c of combos) for (const [ks, v] of seen) next.push({ s: i ? c.s + '|' + ks : ks, k: [...c.k, v] });
      combos = next;
    }
    if (this.sparse && !present) return { list: [], multi: null };
    return { list: combos, multi };
  }

  // Add / remove a document's entries (and, unless _id_, its unique-map
  // keys); r is its natural rank. kt: keyTuples(doc) when already known.
  addEntries(doc, idKey, r, kt) {
    if (this.isText) return this.addText(doc, idKey);
    const { list, multi } = kt || this.keyTuples(doc);
    for (const t of list) this.entries.insert({ k: t.k, r, id: idKey });
    if (multi) for (let i = 0; i < multi.length; i++) if (multi[i]) this.multi[i]++;
    if (this.unique && this.name !== '_id_') {
      for (const t of list) {
        let st = this.map.get(t.s);
        if (!st) this.map.set(t.s, (st = new Set()));
        st.add(idKey);
      }
    }
  }

  removeEntries(doc, idKey, r, kt) {
    if (this.isText) return this.removeText(doc, idKey);
    const { list, multi } = kt || this.keyTuples(doc);
    for (const t of list) this.entries.remove({ k: t.k, r, id: idKey });
    if (multi) for (let i = 0; i < multi.length; i++) if (multi[i]) this.multi[i]--;
    if (this.unique && this.name !== '_id_') {
      for (const t of list) {
        const st = this.map.get(t.s);
        if (st) { st.delete(idKey); if (!st.size) this.map.delete(t.s); }
      }
    }
  }

  // An update: nothing to do when the document's keys did not change (a
  // stock update leaves most indexes alone).
  updateEntries(prev, doc, idKey, r) {
    if (this.isText) {
      if (this.textSig(prev) === this.textSig(doc)) return;
      this.removeText(prev, idKey);
      this.addText(doc, idKey);
      return;
    }
    const a = this.keyTuples(prev), b = this.keyTuples(doc);
    if (a.list.length === b.list.length && a.list.every((t, i) => t.s === b.list[i].s)) return;
    this.removeEntries(prev, idKey, r, a);
    this.addEntries(doc, idKey, r, b);
  }

  // What a document's text terms depend on: its indexed strings and language.
  textSig(doc) {
    const { fieldTexts } = require('./text');
    const lang = doc[this.spec.language_override];
    return JSON.stringify([typeof lang === 'string' ? lang : null, fieldTexts(doc, this.spec.weights)]);
  }

  // Bulk build from [{doc, idKey, r}] (createIndexes, snapshot load).
  build(items) {
    if (this.isText) { for (const it of items) this.addText(it.doc, it.idKey); return; }
    const all = [];
    for (const it of items) {
      const { list, multi } = this.keyTuples(it.doc);
      for (const t of list) all.push({ k: t.k, r: it.r, id: it.idKey });
      if (multi) for (let i = 0; i < multi.length; i++) if (multi[i]) this.multi[i]++;
    }
    this.entries.load(all);
  }

  textTerms(doc) {
    const { docTerms } = require('./text');
    return docTerms(this, doc);
  }

  addText(doc, idKey) {
    for (const t of this.textTerms(doc)) {
      let s = this.postings.get(t);
      if (!s) this.postings.set(t, (s = new Set()));
      s.add(idKey);
    }
  }

  removeText(doc, idKey) {
    for (const t of this.textTerms(doc)) {
      const s = this.postings.get(t);
      if (s) { s.delete(idKey); if (!s.size) this.postings.delete(t); }
    }
  }

  // Index keys of a document ([] when the doc is not indexed: sparse/partial).
  keys(doc) {
    if (this.isText) return [];
    if (this.partial && !this.partial(doc)) return [];
    let combos = [''];
    let present = false;
    for (let i = 0; i < this.fields.length; i++) {
      const vals = [];
      for (const v of getPath(doc, this.fields[i])) {
        if (Array.isArray(v)) { if (v.length) vals.push(...v); else vals.push(undefined); } else vals.push(v);
      }
      if (vals.length) present = true; else vals.push(null);
      const ks = [...new Set(vals.map(keyOf))];
      const next = [];
      for (const c of combos) for (const k of ks) next.push(i ? c + '|' + k : k);
      combos = next;
    }
    if (this.sparse && !present) return [];
    return combos;
  }

  // keyValue document for an E11000 error
  keyValue(doc) {
    const kv = {};
    for (const f of this.fields) {
      const v = getPath(doc, f);
      kv[f] = v.length ? (Array.isArray(v[0]) ? v[0][0] : v[0]) : null;
    }
    return kv;
  }

  add(doc, idKey) {
    for (const k of this.keys(doc)) {
      let s = this.map.get(k);
      if (!s) this.map.set(k, (s = new Set()));
      s.add(idKey);
    }
  }

  remove(doc, idKey) {
    for (const k of this.keys(doc)) {
      const s = this.map.get(k);
      if (s) { s.delete(idKey); if (!s.size) this.map.delete(k); }
    }
  }
}

function dupKeyError(ns, index, doc) {
  const kv = index.keyValue(doc);
  const shown = '{ ' + Object.entries(kv).map(([k, v]) => k + ': ' + show(v)).join(', ') + ' }';
  return err('DuplicateKey', `E11000 duplicate key error collection: ${ns} index: ${index.name} dup key: ${shown}`,
    { keyPattern: index.spec.key.constructor === Object && !index.isText ? index.spec.key : {}, keyValue: kv });
}

function defaultName(key) {
  return Object.entries(key).map(([k, v]) => k + '_' + (typeof v === 'object' ? toNumber(v) : v)).join('_');
}

// Validate and normalize a createIndexes spec into what listIndexes returns.
function normalizeSpec(raw, ns) {
  if (!isDocument(raw)) throw err('TypeMismatch', 'Each index specification must be an object');
  for (const k of Object.keys(raw)) {
    if (!KNOWN_OPTIONS.has(k)) throw err('InvalidIndexSpecificationOption', `The field '${k}' is not valid for an index specification. Specification: ${show(raw)}`);
  }
  const key = raw.key;
  if (!isDocument(key) || !Object.keys(key).length) throw err('CannotCreateIndex', 'Index keys cannot be empty.');
  if (raw.collation) throw err('InvalidIndexSpecificationOption', 'mongo-standin: collation on indexes is not implemented');
  const spec = { v: 2 };
  const textFields = [];
  const plainKey = {};
  for (const [f, v] of Object.entries(key)) {
    if (typeof v === 'string') {
      if (v === 'text') { textFields.push(f); continue; }
      if (UNSUPPORTED_TYPES.has(v)) throw err('CannotCreateIndex', `mongo-standin: index type '${v}' is not implemented`);
      throw err('CannotCreateIndex', `Unknown index plugin '${v}'`);
    }
    if (numKind(v) === null || toNumber(v) === 0) throw err('CannotCreateIndex', `Values in the index key pattern can't be 0 or non-numeric: ${f}: ${show(v)}`);
    plainKey[f] = v;
  }
  if (textFields.length || key._fts === 'text') {
    if (Object.keys(plainKey).length && !(key._fts === 'text')) {
      throw err('CannotCreateIndex', 'mongo-standin: compound text indexes are not implemented');
    }
    const weights = {};
    if (key._fts === 'text') Object.assign(weights, raw.weights || {});
    else {
      for (const f of textFields) weights[f] = 1;
      if (raw.weights) for (const [f, w] of Object.entries(raw.weights)) weights[f] = toNumber(w);
    }
    for (const [f, w] of Object.entries(weights)) {
      const n = toNumber(w);
      if (!(n >= 1 && n < 1e8)) throw err('CannotCreateIndex', 'text index weight must be in the exclusive interval (0,99999) but found: ' + n);
      weights[f] = Math.trunc(n);
    }
    spec.key = { _fts: 'text', _ftsx: 1 };
    spec.name = raw.name || (textFields.length ? textFields.map((f) => f + '_text').join('_') : '$**_text');
    spec.weights = weights;
    spec.default_language = raw.default_language || 'english';
    spec.language_override = raw.language_override || 'language';
    spec.textIndexVersion = 3;
    if (spec.default_language !== 'english' && spec.default_language !== 'none') {
      throw err('CannotCreateIndex', `mongo-standin: text search language '${spec.default_language}' is not implemented (english, none)`);
    }
  } else {
    spec.key = key;
    spec.name = raw.name || defaultName(key);
  }
  if (raw.unique) spec.unique = true;
  if (raw.sparse) spec.sparse = true;
  if (raw.partialFilterExpression !== undefined) {
    if (!isDocument(raw.partialFilterExpression)) throw err('TypeMismatch', 'partialFilterExpression must be an object');
    if (raw.sparse) throw err('CannotCreateIndex', 'cannot mix "partialFilterExpression" and "sparse" options');
    compileMatcher(raw.partialFilterExpression); // validates
    spec.partialFilterExpression = raw.partialFilterExpression;
  }
  if (raw.expireAfterSeconds !== undefined) {
    if (numKind(raw.expireAfterSeconds) === null) throw err('CannotCreateIndex', 'TTL index \'expireAfterSeconds\' option must be numeric');
    if (Object.keys(spec.key).length !== 1) throw err('CannotCreateIndex', 'TTL indexes are single-field indexes, compound indexes do not support TTL');
    spec.expireAfterSeconds = Math.trunc(toNumber(raw.expireAfterSeconds));
  }
  if (raw.hidden) spec.hidden = true;
  if (spec.name === '_id_' && !(Object.keys(spec.key).length === 1 && spec.key._id !== undefined)) {
    throw err('BadValue', 'The index name \'_id_\' is reserved for the _id index');
  }
  if (typeof spec.name !== 'string' || !spec.name) throw err('CannotCreateIndex', 'index name must be a non-empty string');
  return spec;
}

function sameKey(a, b) {
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return false;
    const x = a[ka[i]], y = b[kb[i]];
    if (typeof x === 'string' || typeof y === 'string') { if (x !== y) return false; } else if (toNumber(x) !== toNumber(y)) return false;
  }
  return true;
}

function sameOptions(a, b) {
  const opt = (s) => JSON.stringify({
    unique: !!s.unique, sparse: !!s.sparse, p: s.partialFilterExpression ? keyOf(s.partialFilterExpression) : null,
    ttl: s.expireAfterSeconds ?? null, w: s.weights || null, l: s.default_language || null,
  });
  return opt(a) === opt(b);
}

module.exports = { Index, normalizeSpec, dupKeyError, sameKey, sameOptions };
