'use strict';
// Handshake, diagnostics and session commands.
const { Long, ObjectId, isDocument, toNumber, numKind } = require('../types');
const { err } = require('../errors');

const ELECTION_ID = new ObjectId('7fffffff0000000000000001');
const START = Date.now();

function hello(ctx, cmd, name) {
  const s = ctx.server;
  // The handshake's client metadata names the application (failCommand's
  // appName matches on it).
  if (isDocument(cmd.client) && isDocument(cmd.client.application) && typeof cmd.client.application.name === 'string') {
    ctx.conn.appName = cmd.client.application.name;
  }
  const r = {};
  if (name === 'hello') r.isWritablePrimary = true;
  else r.ismaster = true;
  if (cmd.helloOk) r.helloOk = true;
  if (s.replSet) {
    Object.assign(r, {
      hosts: [s.me], setName: s.replSet, setVersion: 1, secondary: false, primary: s.me, me: s.me,
      electionId: ELECTION_ID,
    });
  }
  Object.assign(r, {
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48000000,
    maxWriteBatchSize: 100000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.conn.id,
    minWireVersion: 0,
    maxWireVersion: 17,
    readOnly: false,
    ok: 1,
  });
  return r;
}

function buildInfo() {
  return {
    version: '6.0.0', gitVersion: 'mongo-standin', standin: true,
    versionArray: [6, 0, 0, 0], bits: 64, debug: false, maxBsonObjectSize: 16 * 1024 * 1024,
    storageEngines: ['standin-memory'], modules: [], javascriptEngine: 'none', sysInfo: 'mongo-standin (Node.js ' + process.version + ')',
    ok: 1,
  };
}

function getParameter(ctx, cmd) {
  const known = {
    featureCompatibilityVersion: { version: '6.0' },
    transactionLifetimeLimitSeconds: ctx.server.sessions.lifetimeMs / 1000,
    maxTransactionLockRequestTimeoutMillis: 5,
    ttlMonitorSleepSecs: ctx.server.opts.ttlIntervalMs / 1000,
    enableTestCommands: !!ctx.server.opts.enableTestCommands,
  };
  if (cmd.getParameter === '*') return { ...known, ok: 1 };
  const out = {};
  for (const k of Object.keys(cmd)) {
    if (k === 'getParameter' || ctx.generic.has(k)) continue;
    if (!(k in known)) throw err('InvalidOptions', 'no option found to get');
    out[k] = known[k];
  }
  if (!Object.keys(out).length) throw err('InvalidOptions', 'no option found to get');
  return { ...out, ok: 1 };
}

// setParameter: only ttlMonitorSleepSecs (what tests change on mongod too).
function setParameter(ctx, cmd) {
  if (ctx.db !== 'admin') throw err('Unauthorized', 'setParameter may only be run against the admin database.');
  const out = { ok: 1 };
  let n = 0;
  for (const k of Object.keys(cmd)) {
    if (k === 'setParameter' || ctx.generic.has(k)) continue;
    if (k !== 'ttlMonitorSleepSecs') throw err('InvalidOptions', `mongo-standin: setParameter '${k}' is not implemented (only ttlMonitorSleepSecs)`);
    const v = cmd[k];
    if (!numKind(v) || !Number.isInteger(toNumber(v)) || toNumber(v) < 1) throw err('BadValue', 'ttlMonitorSleepSecs must be a positive integer');
    out.was = ctx.server.opts.ttlIntervalMs / 1000;
    ctx.server.setTTLInterval(toNumber(v) * 1000);
    n++;
  }
  if (!n) throw err('InvalidOptions', 'no option found to set, use help:true to see options ');
  return out;
}

module.exports = {
  setParameter,
  hello, isMaster: hello, ismaster: hello,
  ping: () => ({ ok: 1 }),
  buildInfo, buildinfo: buildInfo,
  endSessions(ctx, cmd) {
    if (!Array.isArray(cmd.endSessions)) throw err('TypeMismatch', 'endSessions must be an array');
    for (const l of cmd.endSessions) { try { ctx.server.sessions.end(l); } catch (e) { /* ignore malformed */ } }
    return { ok: 1 };
  },
  serverStatus(ctx) {
    const s = ctx.server;
    return {
      host: s.me, version: '6.0.0', process: 'mongod', pid: Long.fromNumber(process.pid), standin: true,
      uptime: (Date.now() - START) / 1000, uptimeMillis: Long.fromNumber(Date.now() - START), localTime: new Date(),
      connections: { current: s.conns.size, available: 1000, totalCreated: s.connCount },
      mem: { resident: Math.round(process.memoryUsage().rss / 1048576) },
      ok: 1,
    };
  },
  getParameter,
  whatsmyuri(ctx) { return { you: ctx.conn.remote, ok: 1 }; },
  connectionStatus() { return { authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }; },
  hostInfo() { return { system: { currentTime: new Date(), hostname: require('os').hostname(), numCores: require('os').cpus().length }, os: { type: 'Linux' }, ok: 1 }; },
  commitTransaction() { throw err('InvalidOptions', 'commitTransaction must be run within a transaction (lsid, txnNumber, autocommit:false)'); },
  abortTransaction() { throw err('InvalidOptions', 'abortTransaction must be run within a transaction (lsid, txnNumber, autocommit:false)'); },
  // MongoDB's test command (mongod needs --setParameter enableTestCommands=1,
  // the stand-in --enable-test-commands); see lib/failpoints.js.
  configureFailPoint(ctx, cmd) {
    if (!ctx.server.opts.enableTestCommands) throw err('CommandNotFound', "no such command: 'configureFailPoint'");
    if (ctx.db !== 'admin') throw err('Unauthorized', 'configureFailPoint may only be run against the admin database.');
    return ctx.server.failPoints.configure(cmd);
  },
  // Test helper (stand-in only): run the TTL sweep now.
  standinSweepTTL(ctx) { return { removed: ctx.server.sweepTTL(), ok: 1 }; },
  isDocument, toNumber,
};
delete module.exports.isDocument;
delete module.exports.toNumber;
