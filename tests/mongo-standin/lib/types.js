'use strict';
// BSON value model of the stand-in.
//
// THE TRAP this module exists for: the C application reads numbers with
// bson_iter_int64()/bson_iter_double(), which return 0 when the stored BSON
// type differs. So every value must come back with exactly the BSON type it
// was stored with. We therefore keep documents in a "typed" form:
//
//   int32      -> JS number (always an integer in int32 range)
//   double     -> bson.Double wrapper (ALWAYS, even 2.5; so 1.0 stays a double)
//   int64      -> bson.Long
//   decimal128 -> bson.Decimal128
//   everything else as bson deserializes it (ObjectId, Date, Binary, ...)
//
// bson.serialize() writes a JS integer in int32 range as int32, a Double as
// double and a Long as int64, so the typed form round-trips exactly.
//
// mingo (query matching, aggregation) only understands JS numbers, so for it
// we derive a "plain" view (all numerics -> JS number) and, for values that
// mingo *produces* (aggregation output), we re-type numbers with hints (see
// retype()).

const bson = require('bson');
const { BSON, Double, Long, Decimal128, Int32, ObjectId, Binary, Timestamp, MinKey, MaxKey, BSONRegExp, BSONSymbol, Code, UUID } = bson;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

// Deserialize a BSON buffer into the typed form.
function decode(buf, offset) {
  const opts = { promoteValues: false, promoteBuffers: false, validation: { utf8: false } };
  let doc;
  if (offset) {
    doc = BSON.deserialize(buf.subarray(offset, offset + buf.readInt32LE(offset)), opts);
  } else {
    doc = BSON.deserialize(buf, opts);
  }
  return normalize(doc);
}

// Int32 wrappers -> JS numbers; BSONSymbol -> string; recurse.
function normalize(v) {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Int32) return v.value;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = normalize(v[i]);
    return v;
  }
  const bt = v._bsontype;
  if (bt) {
    if (bt === 'BSONSymbol') return v.value;
    return v;
  }
  if (v instanceof Date || v instanceof RegExp) return v;
  for (const k of Object.keys(v)) v[k] = normalize(v[k]);
  return v;
}

function encode(doc) {
  return BSON.serialize(doc, { checkKeys: false, ignoreUndefined: false });
}

// Sanitize a JS number into typed form: int32 when integral & in range,
// otherwise a Double.
function typedNumber(n, kindHint) {
  if (kindHint === 'double') return new Double(n);
  if (kindHint === 'long') return Number.isFinite(n) && Number.isInteger(n) ? Long.fromNumber(n) : new Double(n);
  if (kindHint === 'decimal') return Decimal128.fromString(String(n));
  if (Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX && !Object.is(n, -0)) return n;
  if (Number.isInteger(n) && Number.isSafeInteger(n)) return Long.fromNumber(n);
  return new Double(n);
}

// numeric kind of a typed value, or null when not numeric
function numKind(v) {
  if (typeof v === 'number') return Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX ? 'int' : 'double';
  if (v && typeof v === 'object') {
    const t = v._bsontype;
    if (t === 'Double') return 'double';
    if (t === 'Long') return 'long';
    if (t === 'Int32') return 'int';
    if (t === 'Decimal128') return 'decimal';
  }
  if (typeof v === 'bigint') return 'long';
  return null;
}

function toNumber(v) {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  switch (v._bsontype) {
    case 'Double': case 'Int32': return v.value;
    case 'Long': return v.toNumber();
    case 'Decimal128': return Number(v.toString());
  }
  return NaN;
}

function toBigInt(v) {
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (v._bsontype === 'Long') return v.toBigInt();
  return BigInt(Math.trunc(toNumber(v)));
}

const KIND_ORDER = { int: 0, long: 1, double: 2, decimal: 3 };

// Arithmetic with MongoDB's type rules: int32 op int32 overflowing -> int64;
// any double -> double; int64 stays int64 (overflow -> double); decimal wins.
function arith(op, a, b) {
  const ka = numKind(a), kb = numKind(b);
  const k = KIND_ORDER[ka] > KIND_ORDER[kb] ? ka : kb;
  if (k === 'decimal') {
    const x = toNumber(a), y = toNumber(b);
    return Decimal128.fromString(String(op === 'add' ? x + y : x * y));
  }
  if (k === 'double') {
    const x = toNumber(a), y = toNumber(b);
    return new Double(op === 'add' ? x + y : x * y);
  }
  const x = toBigInt(a), y = toBigInt(b);
  const r = op === 'add' ? x + y : x * y;
  if (k === 'int' && r >= BigInt(INT32_MIN) && r <= BigInt(INT32_MAX)) return Number(r);
  if (r >= LONG_MIN && r <= LONG_MAX) return Long.fromBigInt(r);
  return new Double(Number(r));
}

function isDocument(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !v._bsontype &&
    !(v instanceof Date) && !(v instanceof RegExp) && !Buffer.isBuffer(v) && !(v instanceof Uint8Array);
}

// Deep clone of a typed value. Wrappers are immutable in practice, so they
// are shared; documents and arrays are copied (keeps key order).
function clone(v) {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(clone);
  if (v instanceof Date) return new Date(v.getTime());
  if (!isDocument(v)) return v;
  const o = {};
  for (const k of Object.keys(v)) o[k] = clone(v[k]);
  return o;
}

// Plain view for mingo: numerics -> JS numbers. Other values are shared.
function toPlain(v) {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toPlain);
  const bt = v._bsontype;
  if (bt) {
    if (bt === 'Double' || bt === 'Int32' || bt === 'Long' || bt === 'Decimal128') return toNumber(v);
    return v;
  }
  if (v instanceof Date || v instanceof RegExp) return v;
  const o = {};
  for (const k of Object.keys(v)) o[k] = toPlain(v[k]);
  return o;
}

// Type hints: field name -> numeric kind of the last non-int32 value seen
// under that name. Used to re-type aggregation output (mingo works on JS
// numbers, so e.g. a $sum of int64 prices must come back as int64).
function collectHints(v, hints, key) {
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) { for (const x of v) collectHints(x, hints, key); return; }
  const bt = v._bsontype;
  if (bt) {
    if (key !== undefined && (bt === 'Double' || bt === 'Long' || bt === 'Decimal128')) {
      hints.set(key, bt === 'Double' ? 'double' : bt === 'Long' ? 'long' : 'decimal');
    }
    return;
  }
  if (v instanceof Date || v instanceof RegExp) return;
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (typeof x === 'number' && !hints.has(k)) hints.set(k, 'int');
    collectHints(x, hints, k);
  }
}

// Re-type a plain value produced by mingo. Integral numbers under a key hinted
// as long/double/decimal get that type; non-integral -> double; integral ->
// int32 if it fits, else int64 (as MongoDB's $sum does).
function retype(v, hints, key) {
  if (typeof v === 'number') {
    const h = hints && key !== undefined ? hints.get(key) : undefined;
    if (h === 'long' || h === 'double' || h === 'decimal') return typedNumber(v, h);
    if (!Number.isInteger(v)) return new Double(v);
    return typedNumber(v);
  }
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => retype(x, hints, key));
  if (!isDocument(v)) return v;
  const o = {};
  for (const k of Object.keys(v)) o[k] = retype(v[k], hints, k);
  return o;
}

// ---------- comparison in MongoDB's BSON order ----------
function typeRank(v) {
  if (v === undefined || v === null) return 2;
  switch (typeof v) {
    case 'number': case 'bigint': return 3;
    case 'string': return 4;
    case 'boolean': return 9;
  }
  if (Array.isArray(v)) return 6;
  if (v instanceof Date) return 10;
  if (v instanceof RegExp) return 12;
  switch (v._bsontype) {
    case 'MinKey': return 1;
    case 'Double': case 'Int32': case 'Long': case 'Decimal128': return 3;
    case 'BSONSymbol': return 4;
    case 'Binary': return 7;
    case 'ObjectId': return 8;
    case 'Timestamp': return 11;
    case 'BSONRegExp': return 12;
    case 'MaxKey': return 13;
    case undefined: break;
    default: return 14;
  }
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return 7;
  return 5;
}

// Exact numeric comparison: int32/int64 and integral doubles compare as
// BigInt (so int64 values above 2^53 keep every digit), the rest as doubles.
function cmpNum(a, b) {
  const ka = numKind(a), kb = numKind(b);
  if (ka === 'long' || kb === 'long') {
    const x = toNumber(a), y = toNumber(b);
    if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
    if (Number.isNaN(y)) return 1;
    const exact = (v, k, n) => k === 'long' || k === 'int' || (Number.isFinite(n) && Number.isInteger(n));
    if (exact(a, ka, x) && exact(b, kb, y)) {
      const bx = ka === 'long' ? a.toBigInt() : BigInt(x), by = kb === 'long' ? b.toBigInt() : BigInt(y);
      return bx < by ? -1 : bx > by ? 1 : 0;
    }
    if (Number.isFinite(x) && Number.isFinite(y)) {
      // a non-integral double against an int64: compare against the
      // integer part first, exactly
      const bx = ka === 'long' ? a.toBigInt() : BigInt(Math.floor(x)), by = kb === 'long' ? b.toBigInt() : BigInt(Math.floor(y));
      if (bx !== by) return bx < by ? -1 : 1;
      const fx = ka === 'long' ? 0 : x - Math.floor(x), fy = kb === 'long' ? 0 : y - Math.floor(y);
      return fx < fy ? -1 : fx > fy ? 1 : 0;
    }
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = toNumber(a), y = toNumber(b);
  if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
  if (Number.isNaN(y)) return 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function compare(a, b) {
  const ra = typeRank(a), rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 1: case 2: case 13: return 0;
    case 3: return cmpNum(a, b);
    case 4: { const x = String(a.valueOf()), y = String(b.valueOf()); return x < y ? -1 : x > y ? 1 : 0; }
    case 5: {
      const ka = Object.keys(a), kb = Object.keys(b);
      for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
        const c1 = typeRank(a[ka[i]]) - typeRank(b[kb[i]]);
        if (c1) return c1 < 0 ? -1 : 1;
        if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
        const c = compare(a[ka[i]], b[kb[i]]);
        if (c) return c;
      }
      return ka.length - kb.length < 0 ? -1 : ka.length > kb.length ? 1 : 0;
    }
    case 6: {
      for (let i = 0; i < Math.min(a.length, b.length); i++) {
        const c = compare(a[i], b[i]);
        if (c) return c;
      }
      return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
    }
    case 7: {
      const x = Buffer.from(a.buffer || a), y = Buffer.from(b.buffer || b);
      if (x.length !== y.length) return x.length < y.length ? -1 : 1;
      return Buffer.compare(x, y);
    }
    case 8: return Buffer.compare(Buffer.from(a.id), Buffer.from(b.id));
    case 9: return a === b ? 0 : a ? 1 : -1;
    case 10: return Math.sign(a.getTime() - b.getTime());
    case 11: return a.compare ? a.compare(b) : 0;
    default: { const x = String(a), y = String(b); return x < y ? -1 : x > y ? 1 : 0; }
  }
}

// ---------- canonical keys (index keys, _id map keys) ----------
// Values that MongoDB considers equal for indexing (1, 1.0, NumberLong(1))
// get the same key.
function keyOf(v) {
  if (v === undefined || v === null) return 'z';
  switch (typeof v) {
    case 'number': return 'n' + (Object.is(v, -0) ? 0 : v);
    case 'string': return 's' + v;
    case 'boolean': return v ? 'T' : 'F';
    case 'bigint': return 'n' + (Number.isSafeInteger(Number(v)) ? String(Number(v)) : v.toString());
  }
  if (Array.isArray(v)) return 'A[' + v.map(keyOf).join(',') + ']';
  if (v instanceof Date) return 'd' + v.getTime();
  if (v instanceof RegExp) return 'r' + v.toString();
  switch (v._bsontype) {
    case 'ObjectId': return 'o' + v.toHexString();
    case 'Double': case 'Int32': case 'Decimal128': { const n = toNumber(v); return 'n' + (Object.is(n, -0) ? 0 : n); }
    case 'Long': { const n = v.toNumber(); return 'n' + (Number.isSafeInteger(n) ? String(n) : v.toString()); }
    case 'Binary': return 'B' + v.sub_type + ':' + Buffer.from(v.buffer).toString('base64');
    case 'Timestamp': return 't' + v.toString();
    case 'MinKey': return 'm';
    case 'MaxKey': return 'M';
    case undefined: break;
    default: return 'x' + v._bsontype + String(v);
  }
  let s = 'O{';
  for (const k of Object.keys(v)) s += JSON.stringify(k) + ':' + keyOf(v[k]) + ',';
  return s + '}';
}

// Shell-like rendering, used in E11000 messages: { email: "a@b.c" }
function show(v) {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[ ' + v.map(show).join(', ') + ' ]';
  if (v instanceof Date) return 'new Date(' + v.getTime() + ')';
  switch (v._bsontype) {
    case 'ObjectId': return "ObjectId('" + v.toHexString() + "')";
    case 'Double': return String(v.value);
    case 'Long': return v.toString();
    case 'Decimal128': return 'Decimal128("' + v.toString() + '")';
    case undefined: break;
    default: return String(v);
  }
  const ks = Object.keys(v);
  if (!ks.length) return '{}';
  return '{ ' + ks.map((k) => k + ': ' + show(v[k])).join(', ') + ' }';
}

// ---------- paths ----------
// All values reachable at a dotted path in a typed doc, descending into arrays
// like MongoDB does (a.b on [{b:1},{b:2}] -> [1,2]). Array values themselves
// are returned as one value (callers flatten if they need elements).
function getPath(doc, path) {
  const parts = typeof path === 'string' ? path.split('.') : path;
  const out = [];
  walk(doc, parts, 0, out);
  return out;
}
function walk(v, parts, i, out) {
  if (i === parts.length) { out.push(v); return; }
  if (Array.isArray(v)) {
    const p = parts[i];
    if (/^\d+$/.test(p)) { if (+p < v.length) walk(v[+p], parts, i + 1, out); return; }
    for (const e of v) if (isDocument(e) || Array.isArray(e)) walk(e, parts, i, out);
    return;
  }
  if (!isDocument(v)) return;
  if (!Object.prototype.hasOwnProperty.call(v, parts[i])) return;
  walk(v[parts[i]], parts, i + 1, out);
}

// First value at a path without array fan-out (used for TTL, text, etc.)
function getFirst(doc, path) {
  const r = getPath(doc, path);
  return r.length ? r[0] : undefined;
}

module.exports = {
  bson, BSON, Double, Long, Decimal128, Int32, ObjectId, Binary, Timestamp, MinKey, MaxKey, UUID,
  INT32_MIN, INT32_MAX,
  decode, encode, normalize, typedNumber, numKind, toNumber, toBigInt, arith, isDocument, clone, toPlain,
  collectHints, retype, compare, typeRank, keyOf, show, getPath, getFirst,
};
