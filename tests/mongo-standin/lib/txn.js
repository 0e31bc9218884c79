'use strict';
// Logical sessions, retryable writes and multi-document transactions.
const T = require('./types');
const { err, MongoError } = require('./errors');

const WRITE_CMDS = new Set(['insert', 'update', 'delete', 'findandmodify']);
const TXN_CMDS = new Set(['find', 'getmore', 'insert', 'update', 'delete', 'findandmodify', 'aggregate', 'distinct',
  'committransaction', 'aborttransaction', 'killcursors', 'create', 'createindexes', 'bulkwrite']);

class Transaction {
  constructor(session, txnNumber, store) {
    this.session = session;
    this.txnNumber = txnNumber;
    this.snapshotTs = store.ts;
    this.overlays = new Map(); // ns -> Map<idKey, doc|null>
    this.locks = new Set();
    this.uniqueKeys = []; // [Index, keyString] claimed (see storage.js)
    this.state = 'inProgress';
    this.timer = null;
  }
}

// txnNumber arrives as int64 (Long); compare as BigInt.
const txnNum = (v) => (typeof v === 'number' ? BigInt(v) : BigInt(v.toString()));

class Sessions {
  constructor(store, opts) {
    this.store = store;
    this.lifetimeMs = (opts.txnLifetimeSeconds || 60) * 1000;
    this.map = new Map();
  }

  key(lsid) {
    if (!T.isDocument(lsid) || !lsid.id || lsid.id._bsontype !== 'Binary') throw err('BadValue', 'lsid.id must be a UUID');
    return Buffer.from(lsid.id.buffer).toString('hex');
  }

  get(lsid) {
    const k = this.key(lsid);
    let s = this.map.get(k);
    if (!s) this.map.set(k, (s = { key: k, txn: null, highestTxn: -1n, retry: null, lastUse: Date.now() }));
    s.lastUse = Date.now();
    return s;
  }

  end(lsid) {
    const k = this.key(lsid);
    const s = this.map.get(k);
    if (s && s.txn && s.txn.state === 'inProgress') this.abort(s.txn);
    this.map.delete(k);
  }

  abort(txn) {
    if (txn.state !== 'inProgress') return;
    txn.state = 'aborted';
    if (txn.timer) clearTimeout(txn.timer);
    this.store.txnClosed(txn);
  }

  // Throws 112 TransientTransactionError (the transaction aborted) when a
  // unique key it wrote was committed by someone else meanwhile.
  commit(txn) {
    if (txn.timer) clearTimeout(txn.timer);
    this.store.commitTxn(txn);
    txn.state = 'committed';
  }

  // Wraps the execution of one command with session semantics.
  // run(txn) executes the command and returns its reply.
  async execute(cmdName, cmd, replSet, run) {
    const lname = cmdName.toLowerCase();
    const hasTxnNumber = cmd.txnNumber !== undefined;
    if (hasTxnNumber && !replSet) {
      throw err('IllegalOperation', 'Transaction numbers are only allowed on a replica set member or mongos');
    }
    if (cmd.lsid === undefined) {
      if (hasTxnNumber) throw err('InvalidOptions', 'Transaction number requires a session ID to also be specified');
      if (cmd.autocommit !== undefined || cmd.startTransaction !== undefined) throw err('InvalidOptions', 'txnNumber may only be provided for multi-document transactions and retryable write commands');
      return run(null);
    }
    const sess = this.get(cmd.lsid);
    if (cmd.autocommit === undefined) {
      if (cmd.startTransaction !== undefined) throw err('InvalidOptions', 'Specifying startTransaction requires autocommit=false');
      if (!hasTxnNumber) return run(null);
      // Retryable write.
      if (!WRITE_CMDS.has(lname)) throw err(50768, `txnNumber may only be provided for multi-document transactions and retryable write commands. autocommit:false was not provided, and ${cmdName} is not a retryable write command.`);
      const n = txnNum(cmd.txnNumber);
      if (n < sess.highestTxn) throw err('TransactionTooOld', `Retryable write with txnNumber ${n} is prohibited on session ${sess.key} because a newer retryable write with txnNumber ${sess.highestTxn} has already started on this session.`);
      if (sess.retry && sess.retry.n === n) {
        return T.clone(sess.retry.reply);
      }
      if (sess.txn && sess.txn.state === 'inProgress') this.abort(sess.txn);
      sess.highestTxn = n;
      const reply = await run(null);
      if (reply.ok) sess.retry = { n, reply: T.clone(reply) };
      return reply;
    }
    // Multi-document transaction.
    if (cmd.autocommit !== false) throw err('InvalidOptions', 'autocommit must be false when specified');
    if (!hasTxnNumber) throw err('InvalidOptions', 'txnNumber must be specified with autocommit=false');
    if (!TXN_CMDS.has(lname)) throw err('OperationNotSupportedInTransaction', `Cannot run '${cmdName}' in a multi-document transaction.`);
    const n = txnNum(cmd.txnNumber);
    if (n < sess.highestTxn) throw err('TransactionTooOld', `Cannot start transaction ${n} on session ${sess.key} because a newer transaction ${sess.highestTxn} has already started.`);
    let txn = sess.txn;
    if (cmd.startTransaction === true) {
      if (txn && txn.txnNumber === n) throw err(50911, `Cannot start a transaction at given transaction number ${n} a transaction with the same number is in state ${txn.state}`);
      if (lname === 'committransaction' || lname === 'aborttransaction') throw err('NoSuchTransaction', `Transaction ${n} has been aborted.`).withLabel('TransientTransactionError');
      if (cmd.readConcern && cmd.readConcern.level && !['snapshot', 'majority', 'local'].includes(cmd.readConcern.level)) {
        throw err('InvalidOptions', `The readConcern level must be either 'local' (default), 'majority' or 'snapshot' in order to run in a transaction`);
      }
      if (txn && txn.state === 'inProgress') this.abort(txn);
      txn = new Transaction(sess, n, this.store);
      sess.txn = txn;
      sess.highestTxn = n;
      this.store.txnOpened(txn);
      txn.timer = setTimeout(() => this.abort(txn), this.lifetimeMs);
      txn.timer.unref();
    } else if (cmd.startTransaction !== undefined) {
      throw err('InvalidOptions', 'startTransaction can only be specified as true');
    } else if (!txn || txn.txnNumber !== n) {
      throw err('NoSuchTransaction', `Transaction ${n} has been aborted.`).withLabel('TransientTransactionError');
    }
    if (lname === 'committransaction') {
      if (txn.state === 'committed') return { ok: 1 }; // retried commit: idempotent
      if (txn.state !== 'inProgress') throw err('NoSuchTransaction', `Transaction ${n} has been aborted.`).withLabel('TransientTransactionError');
      this.commit(txn);
      return { ok: 1 };
    }
    if (lname === 'aborttransaction') {
      if (txn.state === 'committed') throw err('TransactionCommitted', `Transaction ${n} has been committed.`);
      if (txn.state !== 'inProgress') throw err('NoSuchTransaction', `Transaction ${n} has been aborted.`).withLabel('TransientTransactionError');
      this.abort(txn);
      return { ok: 1 };
    }
    if (txn.state === 'committed') throw err('TransactionCommitted', `Transaction ${n} has been committed.`);
    if (txn.state !== 'inProgress') throw err('NoSuchTransaction', `Transaction ${n} has been aborted.`).withLabel('TransientTransactionError');
    if (cmd.readConcern !== undefined && cmd.startTransaction !== true) throw err('InvalidOptions', 'Only the first command in a transaction may specify a readConcern');
    let reply;
    try {
      reply = await run(txn);
    } catch (e) {
      // MongoDB aborts the transaction on any error inside it.
      this.abort(txn);
      if (e instanceof MongoError && (e.code === 112 || e.code === 251)) e.withLabel('TransientTransactionError');
      throw e;
    }
    if (reply.writeErrors && reply.writeErrors.length) {
      // Like MongoDB: the reply keeps its writeErrors and the transaction is
      // aborted; a write conflict is a transient transaction error.
      this.abort(txn);
      if (reply.writeErrors.some((w) => w.code === 112)) reply.errorLabels = ['TransientTransactionError'];
    }
    return reply;
  }
}

module.exports = { Sessions, Transaction };
