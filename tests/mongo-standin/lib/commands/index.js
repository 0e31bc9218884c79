'use strict';
// Command dispatch. Each command module exports {name: handler}; handler
// (ctx, cmd) returns the reply document (maybe a Promise) or throws MongoError.
const { err, MongoError } = require('../errors');
const { isDocument, numKind, toNumber } = require('../types');
const { sleep, maxTimeExpired } = require('../storage');
const { failReply, addWriteConcernError } = require('../failpoints');

const COMMANDS = Object.assign({},
  require('./admin'),
  require('./crud'),
  require('./aggregate'),
  require('./ddl'),
  require('./plans'));

// Lower-cased lookup (isMaster/ismaster, findAndModify/findandmodify ...).
const BY_LOWER = new Map(Object.keys(COMMANDS).filter((k) => k[0] !== '_').map((k) => [k.toLowerCase(), COMMANDS[k]]));

// Fields every command may carry; handled here or by the session layer.
const GENERIC = new Set(['$db', 'lsid', 'txnNumber', 'autocommit', 'startTransaction', '$clusterTime', '$readPreference',
  'readConcern', 'writeConcern', 'apiVersion', 'apiStrict', 'apiDeprecationErrors', 'comment', 'maxTimeMS', '$audit',
  '$client', 'mayBypassWriteBlocking', '$configServerState', 'clientOperationKey']);

// Read-only commands: when one ran past its maxTimeMS it fails with 50 like
// mongod (a write that already happened keeps its reply).
const READS = new Set(['find', 'aggregate', 'count', 'distinct', 'getmore', 'listcollections', 'listindexes', 'explain']);

async function runCommand(server, conn, body) {
  const t0 = Date.now();
  const name = Object.keys(body)[0];
  const dbName = body.$db;
  let reply;
  let fp = null;
  try {
    if (!name) throw err('CommandNotFound', 'no such command: \'\'');
    if (typeof dbName !== 'string' || !dbName) throw err(40571, 'OP_MSG requests require a $db argument');
    if (!BY_LOWER.has(name.toLowerCase())) throw err('CommandNotFound', `no such command: '${name}'`);
    const handler = BY_LOWER.get(name.toLowerCase());
    if (body.readConcern !== undefined && !isDocument(body.readConcern)) throw err('TypeMismatch', 'readConcern must be an object');
    if (body.writeConcern !== undefined && !isDocument(body.writeConcern)) throw err('TypeMismatch', 'writeConcern must be an object');
    let deadline = null;
    if (body.maxTimeMS !== undefined && body.maxTimeMS !== null) {
      const m = numKind(body.maxTimeMS) ? toNumber(body.maxTimeMS) : NaN;
      if (!Number.isInteger(m) || m < 0 || m > 2147483647) throw err('BadValue', `${m} value for maxTimeMS is out of range [0, 2147483647]`);
      if (m > 0) deadline = t0 + m;
    }
    fp = server.failPoints.take(name, conn);
    if (fp) {
      if (fp.blockMs) {
        await sleep(fp.blockMs);
        if (deadline !== null && Date.now() >= deadline) throw maxTimeExpired();
      }
      if (fp.close) {
        conn.closed = true;
        conn.sock.destroy();
        return { ok: 0, errmsg: 'connection closed by failCommand', code: 6 };
      }
      if (fp.errorCode !== null) {
        const lname = name.toLowerCase();
        // Like mongod: the command does not run; inside a transaction any
        // statement's error aborts it, a failed commit/abort leaves it open.
        if (body.autocommit === false && lname !== 'committransaction' && lname !== 'aborttransaction' && body.lsid) {
          try { const s = server.sessions.get(body.lsid); if (s.txn) server.sessions.abort(s.txn); } catch (e) { /* malformed lsid */ }
        }
        reply = failReply(fp, name, body);
        if (server.log.debugOn) server.log.debug(`${conn.id} ${dbName}.${name} failCommand ${fp.errorCode}`);
        return reply;
      }
    }
    const ctx = {
      server, store: server.store, conn, db: dbName, txn: null, generic: GENERIC, deadline,
      bypassValidation: body.bypassDocumentValidation === true,
      view(db, coll, txn, create) {
        const v = server.store.view(db, coll, txn, create);
        v.deadline = deadline;
        v.bypassValidation = ctx.bypassValidation;
        return v;
      },
      // Test switch (--interleave-ms / STANDIN_INTERLEAVE_MS): let other
      // connections' commands run between a command's read and write.
      interleave: server.interleaveMs === null ? null : () => sleep(server.interleaveMs),
    };
    reply = await server.sessions.execute(name, body, !!server.replSet, async (txn) => {
      ctx.txn = txn;
      return handler(ctx, body, name);
    });
    if (deadline !== null && reply.ok && READS.has(name.toLowerCase()) && Date.now() > deadline) throw maxTimeExpired();
    if (fp && fp.wce && reply.ok) addWriteConcernError(reply, fp);
  } catch (e) {
    if (e instanceof MongoError) reply = e.toReply();
    else {
      server.log.error(`internal error in ${name}: ${e && e.stack || e}`);
      reply = { ok: 0, errmsg: 'mongo-standin internal error: ' + (e && e.message || e), code: 1, codeName: 'InternalError' };
    }
  }
  if (server.log.debugOn) {
    server.log.debug(`${conn.id} ${dbName}.${name} ${reply.ok ? 'ok' : 'ERR ' + reply.code + ' ' + reply.errmsg} ${Date.now() - t0}ms`);
  }
  return reply;
}

module.exports = { runCommand, COMMANDS };
