'use strict';
// Command dispatch. Each command module exports {name: handler}; handler
// (ctx, cmd) returns the reply document (maybe a Promise) or throws MongoError.
const { err, MongoError } = require('../errors');
const { isDocument } = require('../types');

const COMMANDS = Object.assign({},
  require('./admin'),
  require('./crud'),
  require('./aggregate'),
  require('./ddl'));

// Lower-cased lookup (isMaster/ismaster, findAndModify/findandmodify ...).
const BY_LOWER = new Map(Object.keys(COMMANDS).filter((k) => k[0] !== '_').map((k) => [k.toLowerCase(), COMMANDS[k]]));

// Fields every command may carry; handled here or by the session layer.
const GENERIC = new Set(['$db', 'lsid', 'txnNumber', 'autocommit', 'startTransaction', '$clusterTime', '$readPreference',
  'readConcern', 'writeConcern', 'apiVersion', 'apiStrict', 'apiDeprecationErrors', 'comment', 'maxTimeMS', '$audit',
  '$client', 'mayBypassWriteBlocking', '$configServerState', 'clientOperationKey']);

async function runCommand(server, conn, body) {
  const t0 = Date.now();
  const name = Object.keys(body)[0];
  const dbName = body.$db;
  let reply;
  try {
    if (!name) throw err('CommandNotFound', 'no such command: \'\'');
    if (typeof dbName !== 'string' || !dbName) throw err(40571, 'OP_MSG requests require a $db argument');
    if (!BY_LOWER.has(name.toLowerCase())) throw err('CommandNotFound', `no such command: '${name}'`);
    const handler = BY_LOWER.get(name.toLowerCase());
    if (body.readConcern !== undefined && !isDocument(body.readConcern)) throw err('TypeMismatch', 'readConcern must be an object');
    if (body.writeConcern !== undefined && !isDocument(body.writeConcern)) throw err('TypeMismatch', 'writeConcern must be an object');
    const ctx = { server, store: server.store, conn, db: dbName, txn: null, generic: GENERIC };
    reply = await server.sessions.execute(name, body, !!server.replSet, async (txn) => {
      ctx.txn = txn;
      return handler(ctx, body, name);
    });
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
