'use strict';
// Databases, collections and indexes.
const T = require('../types');
const { isDocument, keyOf, Long } = T;
const { err } = require('../errors');
const { normalizeSpec, sameKey, sameOptions } = require('../indexes');
const { compileMatcher } = require('../matcher');
const { _internal: C } = require('./crud');
const { Collection } = require('../storage');

const CREATE_UNSUPPORTED = ['capped', 'size', 'max', 'viewOn', 'pipeline',
  'timeseries', 'clusteredIndex', 'changeStreamPreAndPostImages', 'expireAfterSeconds', 'indexOptionDefaults', 'storageEngine'];

function create(ctx, cmd) {
  const name = C.collName(cmd, 'create');
  for (const k of CREATE_UNSUPPORTED) if (cmd[k] !== undefined) throw err('InvalidOptions', `mongo-standin: create option '${k}' is not implemented`);
  C.checkCollation(cmd.collation);
  C.checkFields(cmd, ctx, new Set(['collation', 'autoIndexId', 'flags', 'encryptedFields', 'validator', 'validationLevel', 'validationAction']));
  if (ctx.store.coll(ctx.db, name, false)) throw err('NamespaceExists', `Collection ${ctx.db}.${name} already exists.`);
  // Compile the options before the collection exists: a bad validator
  // creates nothing.
  const probe = new Collection({ name: ctx.db }, name, validatorOptions(cmd));
  const c = ctx.store.coll(ctx.db, name, true);
  c.setOptions(probe.options);
  ctx.store.changed();
  return { ok: 1 };
}

function validatorOptions(cmd) {
  const o = {};
  for (const k of ['validator', 'validationLevel', 'validationAction']) if (cmd[k] !== undefined) o[k] = cmd[k];
  return o;
}

// collMod: the validator options (what Emporium's migrations change).
function collMod(ctx, cmd) {
  const name = C.collName(cmd, 'collMod');
  for (const k of Object.keys(cmd).slice(1)) {
    if (ctx.generic.has(k) || ['validator', 'validationLevel', 'validationAction'].includes(k)) continue;
    if (['index', 'viewOn', 'pipeline', 'expireAfterSeconds', 'changeStreamPreAndPostImages', 'timeseries', 'clusteredIndex', 'dryRun', 'prepareUnique', 'cappedSize', 'cappedMax'].includes(k)) {
      throw err('InvalidOptions', `mongo-standin: collMod option '${k}' is not implemented`);
    }
    throw err(40415, `BSON field 'collMod.${k}' is an unknown field.`);
  }
  const c = ctx.store.coll(ctx.db, name, false);
  if (!c) throw err('NamespaceNotFound', `ns does not exist: ${ctx.db}.${name}`);
  c.setOptions(validatorOptions(cmd));
  ctx.store.changed();
  return { ok: 1 };
}

function drop(ctx, cmd) {
  const name = C.collName(cmd, 'drop');
  const c = ctx.store.coll(ctx.db, name, false);
  if (!c) throw err('NamespaceNotFound', 'ns not found');
  const n = c.indexes.length;
  ctx.store.dropColl(ctx.db, name);
  return { nIndexesWas: n, ns: c.ns, ok: 1 };
}

function dropDatabase(ctx) {
  const d = ctx.store.db(ctx.db, false);
  if (d) for (const n of [...d.colls.keys()]) ctx.store.dropColl(ctx.db, n);
  return { dropped: ctx.db, ok: 1 };
}

function listDatabases(ctx, cmd) {
  const dbs = [];
  let total = 0;
  for (const d of ctx.store.dbs.values()) {
    let n = 0;
    for (const c of d.colls.values()) n += c.docs.size;
    const size = 4096 + n * 256;
    total += size;
    dbs.push({ name: d.name, sizeOnDisk: Long.fromNumber(size), empty: n === 0 });
  }
  let out = dbs;
  if (isDocument(cmd.filter)) { const m = compileMatcher(cmd.filter); out = dbs.filter((d) => m(d)); }
  if (cmd.nameOnly) out = out.map((d) => ({ name: d.name }));
  return { databases: out, totalSize: Long.fromNumber(total), totalSizeMb: Long.fromNumber(Math.round(total / 1048576)), ok: 1 };
}

function listCollections(ctx, cmd) {
  const d = ctx.store.db(ctx.db, false);
  let items = [];
  if (d) {
    for (const c of d.colls.values()) {
      items.push({ name: c.name, type: 'collection', options: T.clone(c.options), info: { readOnly: false, uuid: c.uuid }, idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } });
    }
  }
  if (cmd.filter !== undefined && cmd.filter !== null) { const m = compileMatcher(C.optDoc(cmd.filter, 'filter')); items = items.filter((i) => m(i)); }
  if (cmd.nameOnly) items = items.map((i) => ({ name: i.name, type: i.type }));
  const bs = isDocument(cmd.cursor) ? C.optNum(cmd.cursor.batchSize, 'cursor.batchSize', undefined) : undefined;
  return C.makeCursor(ctx, ctx.db + '.$cmd.listCollections', items, bs, false);
}

function listIndexes(ctx, cmd) {
  const name = C.collName(cmd, 'listIndexes');
  const c = ctx.store.coll(ctx.db, name, false);
  if (!c) throw err('NamespaceNotFound', `ns does not exist: ${ctx.db}.${name}`);
  const bs = isDocument(cmd.cursor) ? C.optNum(cmd.cursor.batchSize, 'cursor.batchSize', undefined) : undefined;
  return C.makeCursor(ctx, c.ns, c.indexes.map((i) => T.clone(i.spec)), bs, false);
}

function createIndexes(ctx, cmd) {
  const name = C.collName(cmd, 'createIndexes');
  C.checkFields(cmd, ctx, new Set(['indexes', 'commitQuorum', 'ignoreUnknownIndexOptions']));
  if (!Array.isArray(cmd.indexes) || !cmd.indexes.length) throw err('BadValue', 'Must specify at least one index to create');
  const existed = !!ctx.store.coll(ctx.db, name, false);
  const specs = cmd.indexes.map((s) => normalizeSpec(s));
  const c = ctx.store.coll(ctx.db, name, true);
  const before = c.indexes.length;
  const toAdd = [];
  for (const spec of specs) {
    let dup = false;
    for (const ix of [...c.indexes, ...toAdd.map((s) => ({ spec: s, name: s.name, isText: !!s.weights }))]) {
      const sk = sameKey(ix.spec.key, spec.key);
      if (ix.name === spec.name) {
        if (!sk) throw err('IndexKeySpecsConflict', `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${T.show(spec)}, existing index: ${T.show(ix.spec)}`);
        if (!sameOptions(ix.spec, spec)) throw err('IndexOptionsConflict', `An equivalent index already exists with the same name but different options. Requested index: ${T.show(spec)}, existing index: ${T.show(ix.spec)}`);
        dup = true; break;
      }
      const samePartial = keyOf(ix.spec.partialFilterExpression || null) === keyOf(spec.partialFilterExpression || null);
      if (sk && samePartial) {
        throw err('IndexOptionsConflict', `Index already exists with a different name: ${ix.name}`);
      }
    }
    if (spec.weights && c.textIndex && c.textIndex.name !== spec.name) {
      throw err('IndexOptionsConflict', `An equivalent index already exists with a different name and options. Requested index: ${T.show(spec)}, existing index: ${T.show(c.textIndex.spec)}`);
    }
    if (!dup) toAdd.push(spec);
  }
  // All-or-nothing like MongoDB: build every new index, roll back on error.
  const added = [];
  try {
    for (const s of toAdd) added.push(c.addIndex(s));
  } catch (e) {
    c.indexes = c.indexes.filter((ix) => !added.includes(ix));
    throw e;
  }
  ctx.store.changed();
  const r = { numIndexesBefore: before, numIndexesAfter: c.indexes.length, createdCollectionAutomatically: !existed };
  if (!toAdd.length) r.note = 'all indexes already exist';
  r.ok = 1;
  return r;
}

function dropIndexes(ctx, cmd) {
  const name = C.collName(cmd, 'dropIndexes');
  const c = ctx.store.coll(ctx.db, name, false);
  if (!c) throw err('NamespaceNotFound', `ns not found ${ctx.db}.${name}`);
  const n = c.indexes.length;
  const idx = cmd.index;
  const drop1 = (pred, desc) => {
    const ix = c.indexes.find(pred);
    if (!ix) throw err('IndexNotFound', `index not found with name [${desc}]`);
    if (ix.name === '_id_') throw err('InvalidOptions', 'cannot drop _id index');
    c.indexes = c.indexes.filter((x) => x !== ix);
  };
  if (idx === '*') c.indexes = c.indexes.slice(0, 1);
  else if (typeof idx === 'string') drop1((ix) => ix.name === idx, idx);
  else if (Array.isArray(idx)) for (const i of idx) drop1((ix) => ix.name === i, i);
  else if (isDocument(idx)) drop1((ix) => keyOf(ix.spec.key) === keyOf(idx) || (ix.isText && idx[Object.keys(idx)[0]] === 'text' && Object.keys(ix.spec.weights).includes(Object.keys(idx)[0])), T.show(idx));
  else throw err('TypeMismatch', "BSON field 'dropIndexes.index' is missing or has the wrong type");
  ctx.store.changed();
  return { nIndexesWas: n, ok: 1 };
}

function renameCollection(ctx, cmd) {
  if (ctx.db !== 'admin') throw err('Unauthorized', 'renameCollection may only be run against the admin database.');
  const from = cmd.renameCollection, to = cmd.to;
  if (typeof from !== 'string' || typeof to !== 'string') throw err('TypeMismatch', 'renameCollection and to must be strings');
  const split = (ns) => { const i = ns.indexOf('.'); return [ns.slice(0, i), ns.slice(i + 1)]; };
  const [fdb, fc] = split(from), [tdb, tc] = split(to);
  const src = ctx.store.coll(fdb, fc, false);
  if (!src) throw err('NamespaceNotFound', 'Source collection ' + from + ' does not exist');
  if (ctx.store.coll(tdb, tc, false)) {
    if (!cmd.dropTarget) throw err('NamespaceExists', 'target namespace exists');
    ctx.store.dropColl(tdb, tc);
  }
  const dst = ctx.store.coll(tdb, tc, true);
  dst.docs = src.docs; dst.indexes = src.indexes; dst.hints = src.hints;
  dst.options = src.options; dst.validate = src.validate;
  ctx.store.dropColl(fdb, fc);
  return { ok: 1 };
}

module.exports = { create, collMod, drop, dropDatabase, listDatabases, listCollections, listIndexes, createIndexes, dropIndexes, renameCollection };
