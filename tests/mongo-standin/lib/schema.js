'use strict';
// $jsonSchema (MongoDB's draft-4 subset plus bsonType), evaluated on typed
// documents so that bsonType tells int, long, double and decimal apart as
// MongoDB does. Used by collection validators (create/collMod `validator`)
// and by the $jsonSchema query operator.
//
// compileSchema(schema) -> (doc) => null when valid, else the
// `schemaRulesNotSatisfied`-style details MongoDB puts in errInfo.
const T = require('./types');
const { isDocument, numKind, toNumber, compare } = T;
const { err } = require('./errors');

const BSON_TYPES = new Set(['double', 'string', 'object', 'array', 'binData', 'undefined', 'objectId', 'bool', 'date', 'null',
  'regex', 'dbPointer', 'javascript', 'symbol', 'javascriptWithScope', 'int', 'timestamp', 'long', 'decimal', 'minKey',
  'maxKey', 'number']);
const JSON_TYPES = new Set(['object', 'array', 'number', 'boolean', 'string', 'null']);
const KEYWORDS = new Set(['bsonType', 'type', 'required', 'properties', 'additionalProperties', 'patternProperties', 'enum',
  'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minItems', 'maxItems', 'items',
  'additionalItems', 'uniqueItems', 'pattern', 'minProperties', 'maxProperties', 'multipleOf', 'allOf', 'anyOf', 'oneOf',
  'not', 'dependencies', 'title', 'description', 'encrypt', 'encryptMetadata']);
const UNSUPPORTED = new Set(['$ref', '$schema', 'default', 'definitions', 'format', 'id']);

// BSON type name of a typed value (MongoDB's $type names).
function bsonTypeOf(v) {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'number': return Number.isInteger(v) && v >= T.INT32_MIN && v <= T.INT32_MAX ? 'int' : 'double';
    case 'bigint': return 'long';
  }
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  switch (v._bsontype) {
    case 'Double': return 'double';
    case 'Int32': return 'int';
    case 'Long': return 'long';
    case 'Decimal128': return 'decimal';
    case 'ObjectId': case 'ObjectID': return 'objectId';
    case 'Binary': return 'binData';
    case 'BSONRegExp': return 'regex';
    case 'Timestamp': return 'timestamp';
    case 'MinKey': return 'minKey';
    case 'MaxKey': return 'maxKey';
    case 'Code': return v.scope ? 'javascriptWithScope' : 'javascript';
    case 'BSONSymbol': return 'symbol';
    case 'DBRef': return 'object';
    case undefined: break;
    default: return String(v._bsontype).toLowerCase();
  }
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return 'binData';
  return 'object';
}

function jsonTypeOf(v) {
  const b = bsonTypeOf(v);
  if (b === 'bool') return 'boolean';
  if (numKind(v)) return 'number';
  if (b === 'object' || b === 'array' || b === 'string' || b === 'null') return b;
  return b;
}

const bad = (msg) => err('FailedToParse', msg);
const isNum = (v) => numKind(v) !== null;
const nonNegInt = (v, k) => {
  if (!isNum(v) || !Number.isInteger(toNumber(v)) || toNumber(v) < 0) throw bad(`$jsonSchema keyword '${k}' must be a representable nonnegative integer`);
  return toNumber(v);
};
const typeList = (v, k, known) => {
  const arr = Array.isArray(v) ? v : [v];
  if (!arr.length) throw bad(`$jsonSchema keyword '${k}' must name at least one type`);
  for (const t of arr) {
    if (typeof t !== 'string') throw err('TypeMismatch', `$jsonSchema keyword '${k}' must be a string or an array of strings`);
    if (!known.has(t)) throw bad(`Unknown type name alias: ${t}`);
  }
  if (k === 'type' && arr.includes('integer')) throw bad("$jsonSchema type 'integer' is not currently supported.");
  return arr;
};
// Length of a string in code points (MongoDB counts characters, not bytes).
const strLen = (s) => { let n = 0; for (const _ of s) n++; return n; }; // eslint-disable-line no-unused-vars

function compileSchema(schema, path = '') {
  if (!isDocument(schema)) throw err('TypeMismatch', '$jsonSchema must be an object');
  for (const k of Object.keys(schema)) {
    if (UNSUPPORTED.has(k)) throw bad(`$jsonSchema keyword '${k}' is not currently supported`);
    if (!KEYWORDS.has(k)) throw bad(`Unknown $jsonSchema keyword: ${k}`);
  }
  if (schema.type !== undefined && schema.bsonType !== undefined) throw bad('Cannot specify both $jsonSchema keywords \'type\' and \'bsonType\'');
  const rules = []; // each: (v, present) -> null | detail
  const S = schema;
  if (S.bsonType !== undefined) {
    const types = typeList(S.bsonType, 'bsonType', BSON_TYPES);
    rules.push((v) => {
      const t = bsonTypeOf(v);
      if (types.includes(t) || (types.includes('number') && numKind(v))) return null;
      return { operatorName: 'bsonType', specifiedAs: { bsonType: S.bsonType }, reason: 'type did not match', consideredValue: v, consideredType: t };
    });
  }
  if (S.type !== undefined) {
    const types = typeList(S.type, 'type', JSON_TYPES);
    rules.push((v) => {
      const t = jsonTypeOf(v);
      if (types.includes(t)) return null;
      return { operatorName: 'type', specifiedAs: { type: S.type }, reason: 'type did not match', consideredValue: v, consideredType: bsonTypeOf(v) };
    });
  }
  if (S.enum !== undefined) {
    if (!Array.isArray(S.enum) || !S.enum.length) throw bad("$jsonSchema keyword 'enum' must be a nonempty array");
    rules.push((v) => (S.enum.some((e) => T.typeRank(e) === T.typeRank(v) && compare(e, v) === 0) ? null
      : { operatorName: 'enum', specifiedAs: { enum: S.enum }, reason: 'value was not found in enum', consideredValue: v }));
  }
  // String keywords apply to strings only, numeric ones to numbers only, and
  // so on (a value of another type satisfies them), as in JSON Schema.
  for (const [k, cmp] of [['minLength', (n, m) => n >= m], ['maxLength', (n, m) => n <= m]]) {
    if (S[k] === undefined) continue;
    const m = nonNegInt(S[k], k);
    rules.push((v) => (typeof v !== 'string' || cmp(strLen(v), m) ? null
      : { operatorName: k, specifiedAs: { [k]: S[k] }, reason: 'specified string length was not satisfied', consideredValue: v }));
  }
  if (S.pattern !== undefined) {
    if (typeof S.pattern !== 'string') throw err('TypeMismatch', "$jsonSchema keyword 'pattern' must be a string");
    let re;
    try { re = new RegExp(S.pattern, 'u'); } catch (e) { throw bad(`$jsonSchema keyword 'pattern' is not a valid regex: ${e.message}`); }
    rules.push((v) => (typeof v !== 'string' || re.test(v) ? null
      : { operatorName: 'pattern', specifiedAs: { pattern: S.pattern }, reason: 'regular expression did not match', consideredValue: v }));
  }
  for (const k of ['minimum', 'maximum']) {
    if (S[k] === undefined) continue;
    if (!isNum(S[k])) throw err('TypeMismatch', `$jsonSchema keyword '${k}' must be a number`);
    const exK = k === 'minimum' ? 'exclusiveMinimum' : 'exclusiveMaximum';
    const ex = S[exK] === true;
    rules.push((v) => {
      if (!numKind(v)) return null;
      const c = compare(v, S[k]);
      const ok = k === 'minimum' ? (ex ? c > 0 : c >= 0) : (ex ? c < 0 : c <= 0);
      if (ok) return null;
      const d = { operatorName: k, specifiedAs: { [k]: S[k] }, reason: 'comparison failed', consideredValue: v };
      if (ex) d.specifiedAs[exK] = true;
      return d;
    });
  }
  for (const k of ['exclusiveMinimum', 'exclusiveMaximum']) {
    if (S[k] !== undefined && typeof S[k] !== 'boolean') throw err('TypeMismatch', `$jsonSchema keyword '${k}' must be a boolean`);
    if (S[k] !== undefined && S[k === 'exclusiveMinimum' ? 'minimum' : 'maximum'] === undefined) throw bad(`$jsonSchema keyword '${k}' requires the keyword '${k === 'exclusiveMinimum' ? 'minimum' : 'maximum'}'`);
  }
  if (S.multipleOf !== undefined) {
    if (!isNum(S.multipleOf) || !(toNumber(S.multipleOf) > 0)) throw bad("$jsonSchema keyword 'multipleOf' must be a positive number");
    const m = toNumber(S.multipleOf);
    rules.push((v) => (!numKind(v) || toNumber(v) % m === 0 ? null
      : { operatorName: 'multipleOf', specifiedAs: { multipleOf: S.multipleOf }, reason: 'considered value was not a multiple of specified value', consideredValue: v }));
  }
  for (const [k, cmp] of [['minItems', (n, m) => n >= m], ['maxItems', (n, m) => n <= m]]) {
    if (S[k] === undefined) continue;
    const m = nonNegInt(S[k], k);
    rules.push((v) => (!Array.isArray(v) || cmp(v.length, m) ? null
      : { operatorName: k, specifiedAs: { [k]: S[k] }, reason: 'array did not match specified length', consideredValue: v }));
  }
  if (S.uniqueItems === true) {
    rules.push((v) => {
      if (!Array.isArray(v)) return null;
      const seen = new Set();
      for (const e of v) { const k = T.keyOf(e); if (seen.has(k)) return { operatorName: 'uniqueItems', specifiedAs: { uniqueItems: true }, reason: 'found a duplicate item', consideredValue: v, duplicatedValue: e }; seen.add(k); }
      return null;
    });
  }
  if (S.items !== undefined) {
    if (Array.isArray(S.items)) {
      const subs = S.items.map((s, i) => compileSchema(s, path + '.' + i));
      const extra = S.additionalItems === undefined || S.additionalItems === true ? null
        : S.additionalItems === false ? false : compileSchema(S.additionalItems, path + '.*');
      rules.push((v) => {
        if (!Array.isArray(v)) return null;
        for (let i = 0; i < v.length; i++) {
          if (i < subs.length) {
            const d = subs[i](v[i]);
            if (d) return { operatorName: 'items', reason: 'At least one item did not match the sub-schema', itemIndex: i, details: d };
          } else if (extra === false) {
            return { operatorName: 'additionalItems', specifiedAs: { additionalItems: false }, reason: 'found additional items', additionalItems: v.slice(subs.length) };
          } else if (extra) {
            const d = extra(v[i]);
            if (d) return { operatorName: 'additionalItems', reason: 'At least one additional item did not match the sub-schema', itemIndex: i, details: d };
          }
        }
        return null;
      });
    } else {
      const sub = compileSchema(S.items, path + '.*');
      rules.push((v) => {
        if (!Array.isArray(v)) return null;
        for (let i = 0; i < v.length; i++) {
          const d = sub(v[i]);
          if (d) return { operatorName: 'items', reason: 'At least one item did not match the sub-schema', itemIndex: i, details: d };
        }
        return null;
      });
    }
  }
  if (S.required !== undefined) {
    if (!Array.isArray(S.required) || !S.required.length || S.required.some((r) => typeof r !== 'string')) throw bad("$jsonSchema keyword 'required' must be a nonempty array of strings");
    if (new Set(S.required).size !== S.required.length) throw bad("$jsonSchema keyword 'required' array must not contain duplicate values");
    rules.push((v) => {
      if (!isDocument(v)) return null;
      const missing = S.required.filter((r) => !Object.prototype.hasOwnProperty.call(v, r));
      return missing.length ? { operatorName: 'required', specifiedAs: { required: S.required }, missingProperties: missing } : null;
    });
  }
  for (const k of ['minProperties', 'maxProperties']) {
    if (S[k] === undefined) continue;
    const m = nonNegInt(S[k], k);
    rules.push((v) => {
      if (!isDocument(v)) return null;
      const n = Object.keys(v).length;
      return (k === 'minProperties' ? n >= m : n <= m) ? null
        : { operatorName: k, specifiedAs: { [k]: S[k] }, reason: 'specified number of properties was not satisfied', numberOfProperties: n };
    });
  }
  let props = null;
  if (S.properties !== undefined) {
    if (!isDocument(S.properties)) throw err('TypeMismatch', "$jsonSchema keyword 'properties' must be an object");
    props = Object.entries(S.properties).map(([name, s]) => [name, compileSchema(s, path ? path + '.' + name : name)]);
    rules.push((v) => {
      if (!isDocument(v)) return null;
      const failed = [];
      for (const [name, sub] of props) {
        if (!Object.prototype.hasOwnProperty.call(v, name)) continue;
        const d = sub(v[name]);
        if (d) failed.push({ propertyName: name, details: d });
      }
      return failed.length ? { operatorName: 'properties', propertiesNotSatisfied: failed } : null;
    });
  }
  let patterns = [];
  if (S.patternProperties !== undefined) {
    if (!isDocument(S.patternProperties)) throw err('TypeMismatch', "$jsonSchema keyword 'patternProperties' must be an object");
    patterns = Object.entries(S.patternProperties).map(([re, s]) => [new RegExp(re, 'u'), compileSchema(s, path)]);
    rules.push((v) => {
      if (!isDocument(v)) return null;
      for (const [name, x] of Object.entries(v)) {
        for (const [re, sub] of patterns) {
          if (!re.test(name)) continue;
          const d = sub(x);
          if (d) return { operatorName: 'patternProperties', details: [{ propertyName: name, regexMatched: re.source, details: d }] };
        }
      }
      return null;
    });
  }
  if (S.additionalProperties !== undefined) {
    const ap = S.additionalProperties;
    if (typeof ap !== 'boolean' && !isDocument(ap)) throw err('TypeMismatch', "$jsonSchema keyword 'additionalProperties' must be either an object or a boolean");
    const sub = isDocument(ap) ? compileSchema(ap, path) : null;
    const named = new Set(props ? props.map(([n]) => n) : []);
    rules.push((v) => {
      if (!isDocument(v) || ap === true) return null;
      const extra = Object.keys(v).filter((k) => !named.has(k) && !patterns.some(([re]) => re.test(k)));
      if (ap === false) return extra.length ? { operatorName: 'additionalProperties', specifiedAs: { additionalProperties: false }, additionalProperties: extra } : null;
      for (const k of extra) { const d = sub(v[k]); if (d) return { operatorName: 'additionalProperties', reason: 'at least one additional property did not match the subschema', failingProperty: k, details: d }; }
      return null;
    });
  }
  if (S.dependencies !== undefined) {
    if (!isDocument(S.dependencies)) throw err('TypeMismatch', "$jsonSchema keyword 'dependencies' must be an object");
    const deps = Object.entries(S.dependencies).map(([k, d]) => [k, Array.isArray(d) ? d : compileSchema(d, path)]);
    rules.push((v) => {
      if (!isDocument(v)) return null;
      for (const [k, d] of deps) {
        if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
        if (Array.isArray(d)) { const miss = d.filter((x) => !Object.prototype.hasOwnProperty.call(v, x)); if (miss.length) return { operatorName: 'dependencies', failingDependencies: [{ conditionalProperty: k, missingProperties: miss }] }; } else { const r = d(v); if (r) return { operatorName: 'dependencies', failingDependencies: [{ conditionalProperty: k, details: r }] }; }
      }
      return null;
    });
  }
  for (const k of ['allOf', 'anyOf', 'oneOf']) {
    if (S[k] === undefined) continue;
    if (!Array.isArray(S[k]) || !S[k].length) throw bad(`$jsonSchema keyword '${k}' must be a nonempty array`);
    const subs = S[k].map((s) => compileSchema(s, path));
    rules.push((v) => {
      const res = subs.map((s) => s(v));
      const okN = res.filter((r) => !r).length;
      const ok = k === 'allOf' ? okN === subs.length : k === 'anyOf' ? okN > 0 : okN === 1;
      return ok ? null : { operatorName: k, schemasNotSatisfied: res.map((r, i) => (r ? { index: i, details: r } : null)).filter(Boolean) };
    });
  }
  if (S.not !== undefined) {
    const sub = compileSchema(S.not, path);
    rules.push((v) => (sub(v) ? null : { operatorName: 'not', reason: 'child expression matched' }));
  }
  // Returns null (valid) or the list of unsatisfied rules.
  const check = (v) => {
    const out = [];
    for (const r of rules) { const d = r(v); if (d) out.push(d); }
    return out.length ? out : null;
  };
  return check;
}

// The top level: a document; returns null or errInfo.details.
function compileTopSchema(schema) {
  const check = compileSchema(schema);
  return (doc) => {
    const d = check(doc);
    return d ? { operatorName: '$jsonSchema', schemaRulesNotSatisfied: d } : null;
  };
}

module.exports = { compileSchema, compileTopSchema, bsonTypeOf, BSON_TYPES };
