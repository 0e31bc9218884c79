'use strict';
// Aggregation expressions evaluated on typed values, so that BSON numeric
// types follow MongoDB's rules exactly ($add of int64s stays int64 and keeps
// every digit, $divide gives a double, $toLong gives an int64 ...).
// Operators not written here are evaluated by mingo on the plain view and
// the result re-typed (integral -> int32/int64, else double): a documented
// approximation for rarely used operators.
//
// compileExpr(expr) -> (current, root, vars) => typed value (undefined when
// missing). vars: {name: value} for $$name ($let, $map, $filter, $reduce).
const T = require('./types');
const { isDocument, numKind, toNumber, toBigInt, arith, compare, typeRank, Double, Long, Decimal128, clone } = T;
const { err, MongoError } = require('./errors');

const SCORE = Symbol.for('mongo-standin.textScore');
const REMOVE = Symbol('remove');

function truthy(v) {
  if (v === undefined || v === null || v === false) return false;
  if (numKind(v)) return toNumber(v) !== 0;
  return true;
}

// "$a.b" on a typed value: MongoDB expression paths map over arrays.
function getField(v, parts, i) {
  if (i === parts.length) return v;
  if (Array.isArray(v)) {
    const out = [];
    for (const e of v) {
      if (isDocument(e) || Array.isArray(e)) { const r = getField(e, parts, i); if (r !== undefined) out.push(r); }
    }
    return out;
  }
  if (!isDocument(v) || !Object.prototype.hasOwnProperty.call(v, parts[i])) return undefined;
  return getField(v[parts[i]], parts, i + 1);
}

const num = (v) => numKind(v) !== null;
function need(cond, code, msg) { if (!cond) throw err(code, msg); }

function add(vals) {
  let acc = 0, date = null;
  for (const v of vals) {
    if (v === undefined || v === null) return null;
    if (v instanceof Date) { need(date === null, 16612, 'only one date allowed in an $add expression'); date = v; continue; }
    need(num(v), 16554, `$add only supports numeric or date types, not ${T.typeRank(v) === 4 ? 'string' : typeof v}`);
    acc = arith('add', acc, v);
  }
  if (date) return new Date(date.getTime() + Math.round(toNumber(acc)));
  return acc;
}

function sumAll(vals) {
  let acc = 0;
  for (const v of vals) if (num(v)) acc = arith('add', acc, v);
  return acc;
}

function typedResult(v) { // re-type a plain value computed by mingo
  return T.retype(v);
}

function toLong(v) {
  if (v === undefined || v === null) return null;
  const k = numKind(v);
  if (k === 'long') return v;
  if (k === 'int') return Long.fromNumber(v);
  if (k === 'double' || k === 'decimal') {
    const n = toNumber(v);
    need(Number.isFinite(n), 241, `Attempt to convert NaN or infinity value to integer type in $convert with no onError value`);
    return Long.fromBigInt(BigInt(Math.trunc(n)));
  }
  if (typeof v === 'boolean') return Long.fromNumber(v ? 1 : 0);
  if (v instanceof Date) return Long.fromNumber(v.getTime());
  if (typeof v === 'string') {
    need(/^[+-]?\d+$/.test(v.trim()), 241, `Failed to parse number '${v}' in $convert with no onError value`);
    return Long.fromString(v.trim());
  }
  throw err(241, `Unsupported conversion to long in $convert with no onError value`);
}

function toInt(v) {
  if (v === undefined || v === null) return null;
  const l = toLong(v);
  const n = l.toNumber();
  need(n >= T.INT32_MIN && n <= T.INT32_MAX, 241, 'Conversion would overflow target type in $convert with no onError value');
  return n;
}

function toDouble(v) {
  if (v === undefined || v === null) return null;
  if (num(v)) return new Double(toNumber(v));
  if (typeof v === 'boolean') return new Double(v ? 1 : 0);
  if (v instanceof Date) return new Double(v.getTime());
  if (typeof v === 'string') { const n = Number(v); need(v.trim() !== '' && !Number.isNaN(n), 241, `Failed to parse number '${v}' in $convert with no onError value`); return new Double(n); }
  throw err(241, 'Unsupported conversion to double in $convert with no onError value');
}

function toStr(v) {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (num(v)) return numKind(v) === 'long' ? v.toString() : String(toNumber(v));
  if (typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  if (v && v._bsontype === 'ObjectId') return v.toHexString();
  throw err(241, 'Unsupported conversion to string in $convert with no onError value');
}

function cmpOp(op, a, b) {
  const c = compare(a === undefined ? null : a, b === undefined ? null : b);
  switch (op) {
    case '$eq': return c === 0;
    case '$ne': return c !== 0;
    case '$gt': return c > 0;
    case '$gte': return c >= 0;
    case '$lt': return c < 0;
    case '$lte': return c <= 0;
    case '$cmp': return c;
  }
  return null;
}

function minMax(vals, dir) {
  let best;
  for (const v of vals) {
    if (v === undefined || v === null) continue;
    if (best === undefined || compare(v, best) * dir > 0) best = v;
  }
  return best === undefined ? null : best;
}

function divide(a, b) {
  if (a === undefined || a === null || b === undefined || b === null) return null;
  need(num(a) && num(b), 16609, '$divide only supports numeric types');
  need(toNumber(b) !== 0, 2, "can't $divide by zero");
  if (numKind(a) === 'decimal' || numKind(b) === 'decimal') return Decimal128.fromString(String(toNumber(a) / toNumber(b)));
  return new Double(toNumber(a) / toNumber(b));
}

function subtract(a, b) {
  if (a === undefined || a === null || b === undefined || b === null) return null;
  if (a instanceof Date && b instanceof Date) return Long.fromNumber(a.getTime() - b.getTime());
  if (a instanceof Date && num(b)) return new Date(a.getTime() - Math.round(toNumber(b)));
  need(num(a) && num(b), 16556, "can't $subtract non-numeric values");
  const nb = numKind(b) === 'long' ? Long.fromBigInt(-b.toBigInt()) : numKind(b) === 'double' ? new Double(-toNumber(b)) : numKind(b) === 'decimal' ? Decimal128.fromString(String(-toNumber(b))) : (b === T.INT32_MIN ? Long.fromNumber(-b) : -b);
  return arith('add', a, nb);
}

function mod(a, b) {
  if (a === undefined || a === null || b === undefined || b === null) return null;
  need(num(a) && num(b), 16611, '$mod only supports numeric types');
  need(toNumber(b) !== 0, 16610, "can't $mod by 0");
  const ka = numKind(a), kb = numKind(b);
  if (ka === 'double' || kb === 'double' || ka === 'decimal' || kb === 'decimal') return new Double(toNumber(a) % toNumber(b));
  const r = toBigInt(a) % toBigInt(b);
  return ka === 'long' || kb === 'long' ? Long.fromBigInt(r) : Number(r);
}

function abs(v) {
  if (v === undefined || v === null) return null;
  need(num(v), 28765, '$abs only supports numeric types');
  const k = numKind(v);
  if (k === 'long') { const b = v.toBigInt(); return Long.fromBigInt(b < 0n ? -b : b); }
  if (k === 'int') return v === T.INT32_MIN ? Long.fromNumber(-v) : Math.abs(v);
  if (k === 'double') return new Double(Math.abs(toNumber(v)));
  return Decimal128.fromString(String(Math.abs(toNumber(v))));
}

function rounding(fn) {
  return (v) => {
    if (v === undefined || v === null) return null;
    need(num(v), 28765, 'only numeric types are supported');
    const k = numKind(v);
    if (k === 'int' || k === 'long') return v;
    if (k === 'double') return new Double(fn(toNumber(v)));
    return Decimal128.fromString(String(fn(toNumber(v))));
  };
}

function typeName(v) {
  if (v === undefined) return 'missing';
  return require('./schema').bsonTypeOf(v);
}

// Compile an expression.
function compileExpr(e) {
  if (typeof e === 'string') {
    if (e.startsWith('$$')) {
      const parts = e.slice(2).split('.');
      const name = parts.shift();
      if (name === 'ROOT') return (cur, root) => getField(root, parts, 0);
      if (name === 'CURRENT') return (cur) => getField(cur, parts, 0);
      if (name === 'NOW') return () => new Date();
      if (name === 'REMOVE') return () => REMOVE;
      return (cur, root, vars) => {
        if (!vars || !Object.prototype.hasOwnProperty.call(vars, name)) throw err(17276, `Use of undefined variable: ${name}`);
        return getField(vars[name], parts, 0);
      };
    }
    if (e[0] === '$') {
      need(e.length > 1, 16872, "'$' by itself is not a valid FieldPath");
      const parts = e.slice(1).split('.');
      return (cur) => getField(cur, parts, 0);
    }
    return () => e;
  }
  if (Array.isArray(e)) {
    const subs = e.map(compileExpr);
    return (c, r, v) => subs.map((s) => { const x = s(c, r, v); return x === undefined ? null : x; });
  }
  if (!isDocument(e)) return () => e;
  const ks = Object.keys(e);
  if (ks.length === 1 && ks[0][0] === '$') return compileOp(ks[0], e[ks[0]]);
  for (const k of ks) if (k[0] === '$') throw err(16410, `FieldPath field names may not start with '$'. Consider using $getField or $setField.`);
  const subs = ks.map((k) => [k, compileExpr(e[k])]);
  return (c, r, v) => {
    const o = {};
    for (const [k, s] of subs) { const x = s(c, r, v); if (x !== undefined && x !== REMOVE) o[k] = x; }
    return o;
  };
}

const args = (a) => (Array.isArray(a) ? a : [a]);

function compileOp(op, a) {
  const list = () => args(a).map(compileExpr);
  const fixed = (n) => {
    const l = list();
    need(l.length === n, 16020, `Expression ${op} takes exactly ${n} arguments. ${l.length} were passed in.`);
    return l;
  };
  const ev = (subs, c, r, v) => subs.map((s) => s(c, r, v));
  switch (op) {
    case '$literal': return () => a;
    case '$meta': {
      if (a !== 'textScore') throw err(17308, `Unsupported argument to $meta: ${a}`);
      return (c, r) => { const s = r && r[SCORE]; if (s === undefined) throw err(40218, 'query requires text score metadata, but it is not available'); return new Double(s); };
    }
    case '$add': { const l = list(); return (c, r, v) => add(ev(l, c, r, v)); }
    case '$subtract': { const [x, y] = fixed(2); return (c, r, v) => subtract(x(c, r, v), y(c, r, v)); }
    case '$multiply': {
      const l = list();
      return (c, r, v) => {
        let acc = 1;
        for (const x of ev(l, c, r, v)) { if (x === undefined || x === null) return null; need(num(x), 16555, '$multiply only supports numeric types'); acc = arith('mul', acc, x); }
        return acc;
      };
    }
    case '$divide': { const [x, y] = fixed(2); return (c, r, v) => divide(x(c, r, v), y(c, r, v)); }
    case '$mod': { const [x, y] = fixed(2); return (c, r, v) => mod(x(c, r, v), y(c, r, v)); }
    case '$abs': { const [x] = fixed(1); return (c, r, v) => abs(x(c, r, v)); }
    case '$floor': { const [x] = fixed(1); const f = rounding(Math.floor); return (c, r, v) => f(x(c, r, v)); }
    case '$ceil': { const [x] = fixed(1); const f = rounding(Math.ceil); return (c, r, v) => f(x(c, r, v)); }
    case '$trunc': { const l = list(); const f = rounding(Math.trunc); return (c, r, v) => f(l[0](c, r, v)); }
    case '$sum': case '$avg': case '$min': case '$max': {
      const l = list();
      return (c, r, v) => {
        let vals = ev(l, c, r, v);
        if (l.length === 1) vals = Array.isArray(vals[0]) ? vals[0] : [vals[0]];
        if (op === '$sum') return sumAll(vals);
        if (op === '$avg') { const ns = vals.filter(num); return ns.length ? new Double(ns.reduce((s, x) => s + toNumber(x), 0) / ns.length) : null; }
        return minMax(vals, op === '$max' ? 1 : -1);
      };
    }
    case '$eq': case '$ne': case '$gt': case '$gte': case '$lt': case '$lte': case '$cmp': {
      const [x, y] = fixed(2);
      return (c, r, v) => cmpOp(op, x(c, r, v), y(c, r, v));
    }
    case '$and': { const l = list(); return (c, r, v) => l.every((s) => truthy(s(c, r, v))); }
    case '$or': { const l = list(); return (c, r, v) => l.some((s) => truthy(s(c, r, v))); }
    case '$not': { const [x] = fixed(1); return (c, r, v) => !truthy(x(c, r, v)); }
    case '$cond': {
      let i, t, f;
      if (isDocument(a)) { i = compileExpr(a.if); t = compileExpr(a.then); f = compileExpr(a.else); } else [i, t, f] = fixed(3);
      return (c, r, v) => (truthy(i(c, r, v)) ? t(c, r, v) : f(c, r, v));
    }
    case '$ifNull': {
      const l = list();
      return (c, r, v) => {
        for (let k = 0; k < l.length - 1; k++) { const x = l[k](c, r, v); if (x !== undefined && x !== null) return x; }
        return l[l.length - 1](c, r, v);
      };
    }
    case '$switch': {
      need(isDocument(a) && Array.isArray(a.branches), 40060, '$switch requires at least one branch.');
      const br = a.branches.map((b) => [compileExpr(b.case), compileExpr(b.then)]);
      const def = a.default === undefined ? null : compileExpr(a.default);
      return (c, r, v) => {
        for (const [k, t] of br) if (truthy(k(c, r, v))) return t(c, r, v);
        if (!def) throw err(40066, '$switch could not find a matching branch for an input, and no default was specified.');
        return def(c, r, v);
      };
    }
    case '$in': {
      const [x, y] = fixed(2);
      return (c, r, v) => {
        const arr = y(c, r, v);
        need(Array.isArray(arr), 40081, '$in requires an array as a second argument');
        const val = x(c, r, v);
        return arr.some((e) => typeRank(e) === typeRank(val) && compare(e, val) === 0);
      };
    }
    case '$size': {
      const [x] = fixed(1);
      return (c, r, v) => { const arr = x(c, r, v); need(Array.isArray(arr), 17124, `The argument to $size must be an array. Type of the argument is ${typeName(arr)}`); return arr.length; };
    }
    case '$isArray': { const [x] = fixed(1); return (c, r, v) => Array.isArray(x(c, r, v)); }
    case '$arrayElemAt': {
      const [x, y] = fixed(2);
      return (c, r, v) => {
        const arr = x(c, r, v), i = y(c, r, v);
        if (arr === undefined || arr === null || i === undefined || i === null) return null;
        need(Array.isArray(arr), 28689, "$arrayElemAt's first argument must be an array");
        let n = toNumber(i);
        if (n < 0) n += arr.length;
        return n >= 0 && n < arr.length ? arr[n] : undefined;
      };
    }
    case '$first': case '$last': {
      const [x] = fixed(1);
      return (c, r, v) => {
        const arr = x(c, r, v);
        if (arr === undefined || arr === null) return null;
        need(Array.isArray(arr), 28689, `${op}'s argument must be an array`);
        return op === '$first' ? arr[0] : arr[arr.length - 1];
      };
    }
    case '$concat': {
      const l = list();
      return (c, r, v) => {
        let s = '';
        for (const x of ev(l, c, r, v)) { if (x === undefined || x === null) return null; need(typeof x === 'string', 16702, `$concat only supports strings, not ${typeName(x)}`); s += x; }
        return s;
      };
    }
    case '$concatArrays': {
      const l = list();
      return (c, r, v) => {
        const out = [];
        for (const x of ev(l, c, r, v)) { if (x === undefined || x === null) return null; need(Array.isArray(x), 28664, '$concatArrays only supports arrays'); out.push(...x); }
        return out;
      };
    }
    case '$toLower': case '$toUpper': {
      const [x] = fixed(1);
      return (c, r, v) => { const s = x(c, r, v); if (s === undefined || s === null) return ''; const t = typeof s === 'string' ? s : toStr(s); return op === '$toLower' ? t.toLowerCase() : t.toUpperCase(); };
    }
    case '$toLong': { const [x] = fixed(1); return (c, r, v) => toLong(x(c, r, v)); }
    case '$toInt': { const [x] = fixed(1); return (c, r, v) => toInt(x(c, r, v)); }
    case '$toDouble': { const [x] = fixed(1); return (c, r, v) => toDouble(x(c, r, v)); }
    case '$toString': { const [x] = fixed(1); return (c, r, v) => toStr(x(c, r, v)); }
    case '$toBool': { const [x] = fixed(1); return (c, r, v) => { const y = x(c, r, v); return y === undefined || y === null ? null : truthy(y); }; }
    case '$type': { const [x] = fixed(1); return (c, r, v) => typeName(x(c, r, v)); }
    case '$mergeObjects': {
      const l = list();
      return (c, r, v) => {
        let vals = ev(l, c, r, v);
        if (l.length === 1 && Array.isArray(vals[0])) vals = vals[0];
        const o = {};
        for (const x of vals) { if (x === undefined || x === null) continue; need(isDocument(x), 40400, '$mergeObjects requires object inputs'); Object.assign(o, x); }
        return o;
      };
    }
    case '$let': {
      need(isDocument(a) && isDocument(a.vars), 16876, "Missing 'vars' parameter to $let");
      const vs = Object.entries(a.vars).map(([k, x]) => [k, compileExpr(x)]);
      const body = compileExpr(a.in);
      return (c, r, v) => { const nv = { ...(v || {}) }; for (const [k, x] of vs) nv[k] = x(c, r, v); return body(c, r, nv); };
    }
    case '$map': case '$filter': {
      need(isDocument(a), 28649, `${op} requires an object`);
      const input = compileExpr(a.input);
      const as = a.as || 'this';
      const body = compileExpr(op === '$map' ? a.in : a.cond);
      const limit = a.limit !== undefined ? compileExpr(a.limit) : null;
      return (c, r, v) => {
        const arr = input(c, r, v);
        if (arr === undefined || arr === null) return null;
        need(Array.isArray(arr), 28651, `input to ${op} must be an array not ${typeName(arr)}`);
        const out = [];
        const lim = limit ? toNumber(limit(c, r, v)) : Infinity;
        for (const e of arr) {
          const nv = { ...(v || {}), [as]: e };
          const x = body(c, r, nv);
          if (op === '$map') out.push(x === undefined ? null : x);
          else if (truthy(x)) { out.push(e); if (out.length >= lim) break; }
        }
        return out;
      };
    }
    case '$reduce': {
      need(isDocument(a), 40075, '$reduce requires an object');
      const input = compileExpr(a.input), init = compileExpr(a.initialValue), body = compileExpr(a.in);
      return (c, r, v) => {
        const arr = input(c, r, v);
        if (arr === undefined || arr === null) return null;
        need(Array.isArray(arr), 40080, '$reduce requires that input be an array');
        let acc = init(c, r, v);
        for (const e of arr) acc = body(c, r, { ...(v || {}), value: acc, this: e });
        return acc;
      };
    }
    case '$dateTrunc': {
      need(isDocument(a), 5439007, '$dateTrunc only supports an object as its argument');
      for (const k of Object.keys(a)) need(['date', 'unit', 'binSize', 'timezone', 'startOfWeek'].includes(k), 5439008, `Unrecognized argument to $dateTrunc: ${k}. Expected arguments are date, unit, and optionally, binSize, timezone, startOfWeek`);
      need(a.date !== undefined, 5439009, "Missing 'date' parameter to $dateTrunc");
      need(a.unit !== undefined, 5439010, "Missing 'unit' parameter to $dateTrunc");
      const [d, u, b, z, w] = ['date', 'unit', 'binSize', 'timezone', 'startOfWeek'].map((k) => (a[k] === undefined ? () => undefined : compileExpr(a[k])));
      return (c, r, v) => {
        const unit = u(c, r, v);
        if (unit === null || unit === undefined) return null;
        return dateTrunc(d(c, r, v), unit, b(c, r, v), z(c, r, v), unit === 'week' ? w(c, r, v) : undefined);
      };
    }
    default: return fallback(op, a);
  }
}

// ---- dates in a time zone ($dateTrunc) ----
// MongoDB computes calendar units in the zone the expression names (an
// Olson name or a fixed "+HH:MM" offset; UTC by default). Local fields
// come from Intl (the ICU tz database Node ships); a local time goes back
// to an instant by correcting with the zone's offset twice, which lands on
// the right side of a DST change.
const TZ_FMT = new Map();
function tzFormat(tz) {
  let f = TZ_FMT.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch (e) { throw err(40485, `unrecognized time zone identifier: "${tz}"`); }
    TZ_FMT.set(tz, f);
  }
  return f;
}
function fixedOffset(tz) {
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(tz);
  if (!m) return null;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] || 0)) * 60000;
}
// The zone's offset (ms east of UTC) at instant t.
function tzOffset(tz, t) {
  if (tz === 'UTC' || tz === 'GMT' || tz === 'Z') return 0;
  const fo = fixedOffset(tz);
  if (fo !== null) return fo;
  const p = {};
  for (const { type, value } of tzFormat(tz).formatToParts(new Date(t))) p[type] = value;
  const local = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return local - (t - (((t % 1000) + 1000) % 1000));
}
// Local wall-clock ms (as if UTC) -> the instant.
function fromLocal(tz, local) {
  let t = local - tzOffset(tz, local);
  t = local - tzOffset(tz, t);
  return t;
}
const DOW = { sunday: 0, sun: 0, monday: 1, mon: 1, tuesday: 2, tue: 2, wednesday: 3, wed: 3, thursday: 4, thu: 4, friday: 5, fri: 5, saturday: 6, sat: 6 };
function dateTrunc(d, unit, binSize, tz, startOfWeek) {
  if (d === null || d === undefined) return null;
  need(d instanceof Date, 5439012, `$dateTrunc requires 'date' to be a date, but got ${typeName(d)}`);
  need(typeof unit === 'string', 5439013, "$dateTrunc requires 'unit' to be a string");
  const bin = binSize === undefined || binSize === null ? 1 : toNumber(binSize);
  need(Number.isInteger(bin) && bin > 0, 5439017, "$dateTrunc requires 'binSize' to be a positive 64-bit integer");
  const zone = tz === undefined || tz === null ? 'UTC' : tz;
  need(typeof zone === 'string', 40517, 'timezone must evaluate to a string');
  const t = d.getTime();
  const local = t + tzOffset(zone, t);
  const L = new Date(local);
  const fixedMs = { millisecond: 1, second: 1000, minute: 60000, hour: 3600000 }[unit];
  if (fixedMs) {
    // bins of fixed length count from 2000-01-01T00:00 local, like MongoDB
    const ref = Date.UTC(2000, 0, 1);
    const size = fixedMs * bin;
    return new Date(fromLocal(zone, ref + Math.floor((local - ref) / size) * size));
  }
  let y = L.getUTCFullYear(), m = L.getUTCMonth(), day = L.getUTCDate();
  switch (unit) {
    case 'day': break;
    case 'week': {
      const sow = DOW[String(startOfWeek === undefined || startOfWeek === null ? 'sunday' : startOfWeek).toLowerCase()];
      need(sow !== undefined, 5439015, `$dateTrunc parameter 'startOfWeek' value cannot be recognized as a day of a week: ${startOfWeek}`);
      const back = (L.getUTCDay() - sow + 7) % 7;
      day -= back;
      break;
    }
    case 'month': day = 1; break;
    case 'quarter': m -= m % 3; day = 1; break;
    case 'year': m = 0; day = 1; break;
    default: throw err(5439014, `$dateTrunc parameter 'unit' value cannot be recognized as a time unit: ${unit}`);
  }
  if (bin !== 1) {
    // calendar bins count from 2000-01-01 (weeks: the first startOfWeek on or after it)
    if (unit === 'month' || unit === 'quarter' || unit === 'year') {
      const per = unit === 'month' ? 1 : unit === 'quarter' ? 3 : 12;
      const months = (y - 2000) * 12 + m;
      const size = per * bin;
      const start = Math.floor(months / size) * size;
      y = 2000 + Math.floor(start / 12); m = ((start % 12) + 12) % 12;
    } else {
      const sow = DOW[String(startOfWeek === undefined || startOfWeek === null ? 'sunday' : startOfWeek).toLowerCase()];
      let ref = Date.UTC(2000, 0, 1);
      if (unit === 'week') ref += (((sow - new Date(ref).getUTCDay()) + 7) % 7) * 86400000;
      const size = (unit === 'week' ? 7 : 1) * bin * 86400000;
      const cur = Date.UTC(y, m, day);
      const start = ref + Math.floor((cur - ref) / size) * size;
      const S = new Date(start);
      y = S.getUTCFullYear(); m = S.getUTCMonth(); day = S.getUTCDate();
    }
  }
  return new Date(fromLocal(zone, Date.UTC(y, m, day)));
}

// An operator this module does not implement: mingo on the plain view.
function fallback(op, a) {
  const core = require('mingo/core');
  const { MINGO_OPTS, mapMingoError } = require('./matcher');
  if (!core.getOperator('expression', op, { useGlobalContext: true })) throw err('InvalidPipelineOperator', `Unrecognized expression '${op}'`);
  const plainArg = T.toPlain(a);
  return (c, r, v) => {
    if (v && Object.keys(v).length) throw err('BadValue', `mongo-standin: ${op} inside $let/$map/$filter is not implemented`);
    let out;
    try { out = core.computeValue(T.toPlain(c), plainArg, op, { ...MINGO_OPTS, useGlobalContext: true }); } catch (e) {
      if (e instanceof MongoError) throw e;
      throw mapMingoError(e, op);
    }
    return out === undefined ? undefined : typedResult(out);
  };
}

module.exports = { dateTrunc, tzOffset, compileExpr, truthy, getField, SCORE, REMOVE, add, sumAll, minMax, toLong, clone };
