'use strict';
// In-memory storage: databases -> collections -> Map<idKey, {doc, ts}>.
//
// Concurrency model (what real MongoDB does, reduced to what tests need):
// - Every committed write gets a logical timestamp (store.ts).
// - A transaction reads a snapshot taken at its start, plus its own writes
//   (kept in an overlay per namespace until commit). While any transaction is
//   open, overwritten versions are kept in `history` so snapshot reads can
//   see them.
// - A transaction that writes a document locks it. Another transaction
//   writing that document gets WriteConflict (112) at once, as in MongoDB; a
//   write outside any transaction waits until the transaction ends (up to
//   its maxTimeMS, then 50 MaxTimeMSExpired), as MongoDB retries such a
//   conflict internally. A transaction that writes a document committed by
//   someone else after its snapshot gets WriteConflict at once.
// - The same holds for unique index keys: a transaction that writes a
//   document registers the unique keys of its old and new versions as
//   pending (Index.pending). Another transaction writing such a key gets
//   112; a plain write waits for the transaction to end and is then checked
//   against what it committed (11000 if the key is taken). A transaction
//   that meets a key committed after its snapshot gets 112, one committed
//   before it 11000. Commit rechecks every key, so two transactions can never
//   both commit one key.
const fs = require('fs');
const path = require('path');
const T = require('./types');
const { keyOf, UUID } = T;
const { Index, dupKeyError } = require('./indexes');
const { err } = require('./errors');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function maxTimeExpired() {
  return err('MaxTimeMSExpired', 'operation exceeded time limit');
}

// Wait (polling) while holder() returns an open transaction. deadline is
// the command's maxTimeMS end (ms since epoch) or null. Without one the wait
// is bounded by the transaction lifetime limit, which aborts the holder.
async function waitWhile(holder, deadline, boundMs) {
  const until = Date.now() + boundMs;
  while (holder()) {
    const now = Date.now();
    if (deadline !== null && deadline !== undefined && now >= deadline) throw maxTimeExpired();
    if (now >= until) throw writeConflict();
    await sleep(2);
  }
}

function writeConflict() {
  return err('WriteConflict', 'WriteConflict error: this operation conflicted with another operation. Please retry your operation or multi-document transaction.');
}

class Collection {
  constructor(db, name, options) {
    this.db = db;
    this.name = name;
    this.ns = db.name + '.' + name;
    this.docs = new Map(); // idKey -> {doc, ts}
    this.indexes = [new Index({ v: 2, key: { _id: 1 }, name: '_id_' })];
    this.seq = 0; // natural rank of the last inserted record (see commitWrite)
    this.hints = new Map(); // numeric type hints for re-typing aggregation output
    this.history = new Map(); // idKey -> [{ts, prev}] (only while transactions are open)
    this.uuid = new UUID();
    this.options = {};
    this.validate = null; // compiled validator: (doc) -> null | errInfo.details
    this.setOptions(options || {});
  }

  // Collection options that matter here: validator, validationLevel,
  // validationAction (create / collMod). Checked before anything changes.
  setOptions(o) {
    const next = { ...this.options };
    if (o.validationLevel !== undefined) {
      if (!['off', 'strict', 'moderate'].includes(o.validationLevel)) throw err('BadValue', `Enumeration value '${o.validationLevel}' for field 'validationLevel' is not a valid value.`);
      next.validationLevel = o.validationLevel;
    }
    if (o.validationAction !== undefined) {
      if (!['error', 'warn'].includes(o.validationAction)) throw err('BadValue', `Enumeration value '${o.validationAction}' for field 'validationAction' is not a valid value.`);
      next.validationAction = o.validationAction;
    }
    let validate = this.validate;
    if (o.validator !== undefined) {
      if (!T.isDocument(o.validator)) throw err('TypeMismatch', "BSON field 'validator' is the wrong type, expected type 'object'");
      validate = compileValidator(o.validator);
      if (Object.keys(o.validator).length) next.validator = o.validator; else delete next.validator;
      if (!Object.keys(o.validator).length) validate = null;
    }
    if (next.validator) { next.validationLevel = next.validationLevel || 'strict'; next.validationAction = next.validationAction || 'error'; }
    // listCollections shows them in mongod's order
    const ordered = {};
    for (const k of ['validator', 'validationLevel', 'validationAction']) if (next[k] !== undefined) ordered[k] = next[k];
    this.options = ordered;
    this.validate = validate;
  }

  get secondary() { return this.indexes.filter((i) => i.name !== '_id_' && !i.isText); }
  get textIndex() { return this.indexes.find((i) => i.isText) || null; }

  // Apply a committed write (doc null = delete). Every index follows at
  // once (the unique-key maps, the ordered entries, the text postings). A
  // record keeps its natural rank (r) across updates, as the docs Map keeps
  // its position; a delete then re-insert goes to the end, like the Map.
  commitWrite(idKey, doc, ts, keepHistory) {
    const cur = this.docs.get(idKey);
    if (keepHistory) {
      let h = this.history.get(idKey);
      if (!h) this.history.set(idKey, (h = []));
      h.push({ ts, prev: cur ? cur.doc : null });
    }
    const ixs = this.indexes;
    if (cur && doc) {
      // an update: _id never changes; the others only if their keys did
      for (const ix of ixs) if (ix.name !== '_id_') ix.updateEntries(cur.doc, doc, idKey, cur.r);
      this.docs.set(idKey, { doc, ts, r: cur.r });
      T.collectHints(doc, this.hints);
    } else if (doc) {
      const r = ++this.seq;
      this.docs.set(idKey, { doc, ts, r });
      for (const ix of ixs) ix.addEntries(doc, idKey, r);
      T.collectHints(doc, this.hints);
    } else if (cur) {
      for (const ix of ixs) ix.removeEntries(cur.doc, idKey, cur.r);
      this.docs.delete(idKey);
    }
  }

  // Version of a document as of snapshot ts S (null when absent then).
  versionAt(idKey, S) {
    const h = this.history.get(idKey);
    if (h) for (const e of h) if (e.ts > S) return e.prev;
    const cur = this.docs.get(idKey);
    if (!cur) return null;
    // A newer version without history can only be an insert after S.
    return cur.ts <= S ? cur.doc : null;
  }

  changedSince(idKey, S) {
    const cur = this.docs.get(idKey);
    if (cur && cur.ts > S) return true;
    const h = this.history.get(idKey);
    return !!(h && h.some((e) => e.ts > S));
  }

  addIndex(spec) {
    const ix = new Index(spec);
    // Build, checking uniqueness against the existing documents.
    const items = [];
    for (const [idKey, { doc, r }] of this.docs) {
      if (ix.unique) {
        for (const k of ix.keys(doc)) {
          const s = ix.map.get(k);
          if (s && s.size) throw dupKeyError(this.ns, ix, doc);
        }
      }
      if (ix.unique) ix.add(doc, idKey);
      items.push({ doc, idKey, r });
    }
    ix.build(items);
    this.indexes.push(ix);
    return ix;
  }
}

// A validator is a query filter, usually {$jsonSchema: ...}. Returns
// (doc) -> null when the document passes, else errInfo.details like mongod's.
function compileValidator(v) {
  for (const k of ['$text', '$where', '$near', '$nearSphere', '$expr.$function']) {
    if (v[k] !== undefined) throw err('QueryFeatureNotAllowed', `${k} is not allowed in this context`);
  }
  const { compileMatcher } = require('./matcher');
  const { compileTopSchema } = require('./schema');
  const match = compileMatcher(v);
  const schema = T.isDocument(v.$jsonSchema) ? compileTopSchema(v.$jsonSchema) : null;
  return (doc) => {
    if (match(doc)) return null;
    const d = schema ? schema(doc) : null;
    if (d && Object.keys(v).length === 1) return d;
    return { operatorName: '$and', clausesNotSatisfied: d ? [d] : [{ operatorName: Object.keys(v)[0], reason: 'expression did not match' }] };
  };
}

class Database {
  constructor(name) { this.name = name; this.colls = new Map(); }
}

class Store {
  constructor(opts) {
    this.dbs = new Map();
    this.ts = 0;
    this.txns = new Set(); // open transactions
    this.locks = new Map(); // ns \0 idKey -> txn
    this.dbpath = opts.dbpath || null;
    this.log = opts.log;
    this.persistTimer = null;
    // A plain write waits at most this long for a transaction to end (the
    // lifetime limit aborts it before); Sessions sets it.
    this.lockBoundMs = 65000;
    this.planLog = null;
  }

  // Plan log for tests (standinQueryPlans, --enable-test-commands): the
  // last plans the planner chose, newest last. null = not recording.
  logPlan(ns, op, filter, sort, r) {
    const { describe } = require('./planner');
    const d = describe(r.plan);
    this.planLog.push({
      ns, op, filterKeys: filter ? Object.keys(filter) : [], sortKeys: sort ? Object.keys(sort) : [],
      stage: d.stage, indexName: d.indexName || (d.inputStage && d.inputStage.indexName) || null,
      indexNames: d.inputStages ? d.inputStages.map((x) => x.indexName) : undefined,
      keysExamined: r.stats.keysExamined, docsExamined: r.stats.docsExamined, nReturned: r.docs.length,
    });
    if (this.planLog.length > 1000) this.planLog.splice(0, this.planLog.length - 1000);
  }

  db(name, create) {
    let d = this.dbs.get(name);
    if (!d && create) this.dbs.set(name, (d = new Database(name)));
    return d || null;
  }

  coll(dbName, name, create) {
    const d = this.db(dbName, create);
    if (!d) return null;
    let c = d.colls.get(name);
    if (!c && create) {
      validateCollName(name);
      d.colls.set(name, (c = new Collection(d, name)));
      this.changed();
    }
    return c || null;
  }

  dropColl(dbName, name) {
    const d = this.db(dbName, false);
    if (!d || !d.colls.has(name)) return false;
    d.colls.delete(name);
    if (!d.colls.size) this.dbs.delete(dbName);
    this.changed();
    return true;
  }

  view(dbName, collName, txn, create) {
    const c = this.coll(dbName, collName, create);
    return new View(this, c, txn, dbName + '.' + collName);
  }

  txnOpened(txn) { this.txns.add(txn); }
  txnClosed(txn) {
    this.txns.delete(txn);
    for (const [ix, k] of txn.uniqueKeys) if (ix.pending.get(k) === txn) ix.pending.delete(k);
    txn.uniqueKeys.length = 0;
    for (const k of txn.locks) if (this.locks.get(k) === txn) this.locks.delete(k);
    txn.locks.clear();
    if (!this.txns.size) for (const d of this.dbs.values()) for (const c of d.colls.values()) c.history.clear();
  }

  // Unique keys of a transaction's writes that someone else committed
  // meanwhile (cannot happen while every writer honours Index.pending; the
  // check keeps "two transactions commit one key" impossible regardless).
  commitConflict(txn) {
    for (const [ns, ov] of txn.overlays) {
      const i = ns.indexOf('.');
      const c = this.coll(ns.slice(0, i), ns.slice(i + 1), false);
      if (!c) continue;
      for (const [idKey, doc] of ov) {
        if (!doc) continue;
        for (const ix of c.indexes) {
          if (!ix.unique || ix.isText) continue;
          for (const k of ix.keys(doc)) {
            const ids = ix.map.get(k);
            if (ids) for (const other of ids) if (other !== idKey && !ov.has(other)) return true;
          }
        }
      }
    }
    return false;
  }

  commitTxn(txn) {
    if (this.commitConflict(txn)) {
      this.txnClosed(txn);
      txn.state = 'aborted';
      throw writeConflict().withLabel('TransientTransactionError');
    }
    this.txns.delete(txn);
    const ts = ++this.ts;
    const keep = this.txns.size > 0;
    for (const [ns, ov] of txn.overlays) {
      const i = ns.indexOf('.');
      const c = this.coll(ns.slice(0, i), ns.slice(i + 1), true);
      for (const [idKey, doc] of ov) c.commitWrite(idKey, doc, ts, keep);
    }
    this.txnClosed(txn);
    this.changed();
  }

  // ---------- persistence ----------
  changed() {
    if (!this.dbpath || this.persistTimer) return;
    this.persistTimer = setTimeout(() => { this.persistTimer = null; this.save(); }, 1000);
  }

  snapshotFile() { return path.join(this.dbpath, 'standin-snapshot.bson'); }

  // File format: a sequence of BSON documents. {c: ns, indexes: [...]} starts
  // a collection, {d: doc} are its documents. Written to a temp file and
  // renamed, so a crash never leaves a torn snapshot.
  save() {
    if (!this.dbpath) return;
    if (this.persistTimer) { clearTimeout(this.persistTimer); this.persistTimer = null; }
    const parts = [];
    for (const d of this.dbs.values()) {
      for (const c of d.colls.values()) {
        parts.push(T.encode({ db: d.name, c: c.name, indexes: c.indexes.filter((i) => i.name !== '_id_').map((i) => i.spec), options: c.options }));
        for (const { doc } of c.docs.values()) parts.push(T.encode({ d: doc }));
      }
    }
    fs.mkdirSync(this.dbpath, { recursive: true });
    const tmp = this.snapshotFile() + '.tmp';
    const fd = fs.openSync(tmp, 'w');
    try {
      for (const p of parts) fs.writeSync(fd, p);
      fs.fsyncSync(fd);
    } finally { fs.closeSync(fd); }
    fs.renameSync(tmp, this.snapshotFile());
  }

  load() {
    if (!this.dbpath) return;
    let buf;
    try { buf = fs.readFileSync(this.snapshotFile()); } catch (e) { if (e.code === 'ENOENT') return; throw e; }
    let off = 0, c = null, n = 0;
    while (off < buf.length) {
      const len = buf.readInt32LE(off);
      const rec = T.decode(buf.subarray(off, off + len));
      off += len;
      if (rec.c !== undefined) {
        c = this.coll(rec.db, rec.c, true);
        if (T.isDocument(rec.options)) c.setOptions(rec.options);
        for (const spec of rec.indexes) c.addIndex(spec);
      } else if (rec.d !== undefined && c) {
        c.commitWrite(keyOf(rec.d._id), rec.d, ++this.ts, false);
        n++;
      }
    }
    if (this.log) this.log.info(`loaded ${n} documents from ${this.snapshotFile()}`);
  }
}

function validateCollName(name) {
  if (typeof name !== 'string' || !name || name.includes('\0') || name.startsWith('.') || name.includes('$')) {
    throw err('InvalidNamespace', `Invalid collection name: ${name}`);
  }
}

// A collection as seen by one operation: committed state, or a transaction's
// snapshot plus its own writes.
class View {
  constructor(store, coll, txn, ns) {
    this.store = store;
    this.coll = coll;
    this.txn = txn || null;
    this.ns = ns;
    this.overlay = txn ? txn.overlays.get(ns) || null : null;
    this.deadline = null; // the command's maxTimeMS end, set by ctx.view()
  }

  ensureColl() {
    if (!this.coll) {
      const i = this.ns.indexOf('.');
      this.coll = this.store.coll(this.ns.slice(0, i), this.ns.slice(i + 1), true);
    }
    return this.coll;
  }

  get(idKey) {
    if (this.overlay && this.overlay.has(idKey)) return this.overlay.get(idKey);
    if (!this.coll) return null;
    if (this.txn) return this.coll.versionAt(idKey, this.txn.snapshotTs);
    const r = this.coll.docs.get(idKey);
    return r ? r.doc : null;
  }

  * scan() {
    if (!this.txn) {
      if (this.coll) for (const r of this.coll.docs.values()) yield r.doc;
      return;
    }
    const ids = new Set();
    if (this.coll) { for (const k of this.coll.docs.keys()) ids.add(k); for (const k of this.coll.history.keys()) ids.add(k); }
    if (this.overlay) for (const k of this.overlay.keys()) ids.add(k);
    for (const k of ids) { const d = this.get(k); if (d) yield d; }
  }

  count() {
    if (!this.txn) return this.coll ? this.coll.docs.size : 0;
    let n = 0;
    for (const _ of this.scan()) n++; // eslint-disable-line no-unused-vars
    return n;
  }

  // Documents matching a filter, in natural order, through the query
  // planner ($merge's lookups of its target). this.lastExact: the answer
  // is exactly the matches (callers may still recheck).
  candidates(filter) {
    this.lastExact = true;
    if (!this.coll) return [];
    const { compileMatcher } = require('./matcher');
    return require('./planner').execute(this, { filter: filter || {}, match: compileMatcher(filter || {}), cmp: null, skip: 0, limit: 0 }).docs;
  }

  // Wait for / take the write lock on a document. Must be awaited before
  // reading the document for a write; after it returns the caller proceeds
  // synchronously, so nothing can change in between. A transaction meeting
  // another's lock fails at once (112); a plain write waits for it to end.
  async lock(idKey) {
    const lk = this.ns + '\0' + idKey;
    const holder = () => { const h = this.store.locks.get(lk); return h && h !== this.txn && h.state === 'inProgress' ? h : null; };
    if (holder()) {
      if (this.txn) throw writeConflict();
      await waitWhile(holder, this.deadline, this.store.lockBoundMs);
    }
    if (this.txn) {
      if (this.txn.state !== 'inProgress') throw err('NoSuchTransaction', `Transaction ${this.txn.txnNumber} has been aborted.`);
      if (this.coll && this.coll.changedSince(idKey, this.txn.snapshotTs)) throw writeConflict();
      this.store.locks.set(lk, this.txn);
      this.txn.locks.add(lk);
    }
  }

  // The open transaction (not ours) holding one of doc's unique keys, or null.
  keyHolder(doc) {
    const c = this.coll;
    if (!c || !doc) return null;
    for (const ix of c.indexes) {
      if (!ix.unique || ix.isText || !ix.pending.size) continue;
      for (const k of ix.keys(doc)) {
        const h = ix.pending.get(k);
        if (h && h !== this.txn && h.state === 'inProgress') return h;
      }
    }
    return null;
  }

  // For a plain write: if a transaction holds one of doc's unique keys, wait
  // for it to end and return true (the caller then re-reads and recomputes);
  // false when nothing was in the way. Only awaits when it has to wait, so a
  // caller that gets false is still in the same synchronous step.
  waitKeys(doc) {
    if (this.txn) return false;
    const h = this.keyHolder(doc);
    if (!h) return false;
    return waitWhile(() => (h.state === 'inProgress' ? h : null), this.deadline, this.store.lockBoundMs).then(() => true);
  }

  checkUnique(doc, idKey) {
    const c = this.coll;
    if (!c) return;
    for (const ix of c.indexes) {
      if (!ix.unique || ix.isText) continue;
      for (const k of ix.keys(doc)) {
        const s = ix.map.get(k);
        if (s) {
          for (const other of s) {
            if (other === idKey || (this.overlay && this.overlay.has(other))) continue;
            // Committed after our snapshot: MongoDB reports a write conflict
            // (the transaction is retried and then sees the key: 11000).
            if (this.txn) { const r = c.docs.get(other); if (r && r.ts > this.txn.snapshotTs) throw writeConflict(); }
            throw dupKeyError(this.ns, ix, doc);
          }
        }
        if (this.overlay) {
          for (const [other, d] of this.overlay) if (d && other !== idKey && ix.keys(d).includes(k)) throw dupKeyError(this.ns, ix, doc);
        }
      }
    }
  }

  // The collection's validator (MongoDB: inserts, updates, upserts and
  // findAndModify, in and outside transactions; bypassDocumentValidation
  // skips it; validationLevel moderate lets an invalid document stay so).
  checkValid(idKey, doc) {
    const c = this.coll;
    if (!c || !c.validate || this.bypassValidation) return;
    const level = c.options.validationLevel || 'strict';
    if (level === 'off') return;
    const details = c.validate(doc);
    if (!details) return;
    if (level === 'moderate') { const prev = this.get(idKey); if (prev && c.validate(prev)) return; }
    if (c.options.validationAction === 'warn') {
      if (this.store.log) this.store.log.warn(`Document would fail validation: ${this.ns} _id ${T.show(doc._id)}`);
      return;
    }
    throw err('DocumentValidationFailure', 'Document failed validation', { errInfo: { failingDocumentId: doc._id, details } });
  }

  // A transaction's write takes the unique keys of the old and the new
  // version of the document (MongoDB writes both index entries).
  claimKeys(prev, doc) {
    const c = this.coll;
    if (!c) return;
    const claims = [];
    for (const ix of c.indexes) {
      if (!ix.unique || ix.isText) continue;
      for (const d of [prev, doc]) {
        if (!d) continue;
        for (const k of ix.keys(d)) {
          const h = ix.pending.get(k);
          if (h && h !== this.txn && h.state === 'inProgress') throw writeConflict();
          if (h !== this.txn) claims.push([ix, k]);
        }
      }
    }
    for (const [ix, k] of claims) { ix.pending.set(k, this.txn); this.txn.uniqueKeys.push([ix, k]); }
  }

  // Write a document (null = delete). Caller holds the lock (see lock())
  // and, for a plain write, has waited for pending unique keys (waitKeys()).
  write(idKey, doc) {
    if (doc) this.checkValid(idKey, doc);
    if (this.txn) {
      this.ensureColl();
      const prev = this.get(idKey);
      if (this.keyHolder(doc) || this.keyHolder(prev)) throw writeConflict();
      if (doc) this.checkUnique(doc, idKey);
      this.claimKeys(prev, doc);
      if (!this.overlay) { this.overlay = new Map(); this.txn.overlays.set(this.ns, this.overlay); }
      this.overlay.set(idKey, doc);
      return;
    }
    if (doc) {
      if (this.keyHolder(doc)) throw writeConflict();
      this.checkUnique(doc, idKey);
    }
    this.ensureColl().commitWrite(idKey, doc, ++this.store.ts, this.store.txns.size > 0);
    this.store.changed();
  }

  // Insert: the _id index is the docs map itself.
  async insert(doc) {
    const idKey = keyOf(doc._id);
    for (;;) {
      await this.lock(idKey);
      if (this.get(idKey)) {
        const ix = this.ensureColl().indexes[0];
        throw dupKeyError(this.ns, ix, doc);
      }
      const w = this.waitKeys(doc);
      if (w) { await w; continue; }
      this.write(idKey, doc);
      return;
    }
  }
}

module.exports = { Store, View, Collection, writeConflict, maxTimeExpired, waitWhile, sleep, validateCollName };
