#!/usr/bin/env node
'use strict';
// mongo-standin: a MongoDB-wire-compatible TEST server (not a database).
// See README.md. Usage:
//   node server.js --port P [--host 127.0.0.1] [--repl-set rs0] [--dbpath DIR]
//                  [--log-level debug|info|warn] [--txn-lifetime-seconds N]
//                  [--ttl-interval-ms N] [--enable-test-commands]
//                  [--setParameter enableTestCommands=1] [--interleave-ms N]
//                  [--unix-socket PATH|auto]
const net = require('net');
const wire = require('./lib/wire');
const { Store } = require('./lib/storage');
const { Sessions } = require('./lib/txn');
const { runCommand } = require('./lib/commands');
const T = require('./lib/types');
const { MongoError } = require('./lib/errors');
const { FailPoints } = require('./lib/failpoints');

// Environment defaults (flags win): STANDIN_TTL_INTERVAL_MS,
// STANDIN_INTERLEAVE_MS, STANDIN_ENABLE_TEST_COMMANDS=1.
const envNum = (k) => (process.env[k] !== undefined && process.env[k] !== '' ? Number(process.env[k]) : null);

function parseArgs(argv) {
  // TTL: MongoDB's TTL monitor runs every 60 s; tests that need fast expiry
  // say so (--ttl-interval-ms or STANDIN_TTL_INTERVAL_MS).
  const o = {
    port: 27017, host: '127.0.0.1', replSet: null, dbpath: null, logLevel: 'info', txnLifetimeSeconds: 60,
    ttlIntervalMs: envNum('STANDIN_TTL_INTERVAL_MS') ?? 60000,
    interleaveMs: envNum('STANDIN_INTERLEAVE_MS'),
    enableTestCommands: process.env.STANDIN_ENABLE_TEST_COMMANDS === '1',
    unixSocket: null,
  };
  const need = (i) => { if (i + 1 >= argv.length) usage(`missing value for ${argv[i]}`); return argv[i + 1]; };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--port': o.port = Number(need(i)); i++; break;
      case '--host': case '--bind_ip': o.host = need(i); i++; break;
      case '--repl-set': case '--replSet': o.replSet = need(i); i++; break;
      case '--dbpath': o.dbpath = need(i); i++; break;
      case '--log-level': o.logLevel = need(i); i++; break;
      case '--txn-lifetime-seconds': o.txnLifetimeSeconds = Number(need(i)); i++; break;
      case '--ttl-interval-ms': o.ttlIntervalMs = Number(need(i)); i++; break;
      case '--interleave-ms': o.interleaveMs = Number(need(i)); i++; break;
      case '--enable-test-commands': o.enableTestCommands = true; break;
      case '--unix-socket': o.unixSocket = need(i); i++; break;
      case '--setParameter': {
        const v = need(i); i++;
        if (v === 'enableTestCommands=1' || v === 'enableTestCommands=true') o.enableTestCommands = true;
        else usage(`unsupported --setParameter ${v}`);
        break;
      }
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument ${a}`);
    }
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) usage('bad --port');
  if (!['debug', 'info', 'warn', 'error'].includes(o.logLevel)) usage('bad --log-level');
  if (!(o.txnLifetimeSeconds > 0)) usage('bad --txn-lifetime-seconds');
  if (!(Number.isInteger(o.ttlIntervalMs) && o.ttlIntervalMs >= 10)) usage('bad --ttl-interval-ms (an integer >= 10)');
  if (o.interleaveMs !== null && !(Number.isInteger(o.interleaveMs) && o.interleaveMs >= 0)) usage('bad --interleave-ms (an integer >= 0)');
  return o;
}

function usage(msg) {
  if (msg) process.stderr.write(`mongo-standin: ${msg}\n`);
  process.stderr.write('usage: node server.js --port P [--host 127.0.0.1] [--repl-set NAME] [--dbpath DIR] [--log-level debug|info] [--txn-lifetime-seconds N] [--ttl-interval-ms N] [--enable-test-commands] [--interleave-ms N] [--unix-socket PATH|auto]\n');
  process.exit(msg ? 2 : 0);
}

function makeLogger(level) {
  const order = { debug: 0, info: 1, warn: 2, error: 3 };
  const lv = order[level];
  const out = (l) => (m) => { if (order[l] >= lv) process.stderr.write(`${new Date().toISOString()} ${l} ${m}\n`); };
  return { debug: out('debug'), info: out('info'), warn: out('warn'), error: out('error'), debugOn: lv === 0 };
}

class Server {
  constructor(opts) {
    this.opts = opts;
    this.log = makeLogger(opts.logLevel);
    this.replSet = opts.replSet;
    this.store = new Store({ dbpath: opts.dbpath, log: this.log });
    this.sessions = new Sessions(this.store, { txnLifetimeSeconds: opts.txnLifetimeSeconds });
    // A plain write blocked by a transaction waits at most until the
    // lifetime limit has aborted it.
    this.store.lockBoundMs = opts.txnLifetimeSeconds * 1000 + 5000;
    this.failPoints = new FailPoints();
    this.interleaveMs = opts.interleaveMs;
    this.cursors = new Map();
    this.conns = new Set();
    this.connCount = 0;
    this.me = null;
  }

  start() {
    this.store.load();
    this.net = net.createServer((sock) => this.onConnection(sock));
    this.net.on('error', (e) => { this.log.error(`listen failed: ${e.message}`); process.exit(1); });
    this.net.listen(this.opts.port, this.opts.host, () => {
      const { port } = this.net.address();
      const host = this.opts.host === '0.0.0.0' || this.opts.host === '::' ? '127.0.0.1' : this.opts.host;
      this.me = `${host}:${port}`;
      // The one ready line other code waits for (and parses PORT from),
      // printed once every listener is up.
      const ready = () => process.stdout.write(`mongo-standin ready on ${this.me}\n`);
      if (this.opts.unixSocket) this.listenUnix(port, ready); else ready();
    });
    this.setTTLInterval(this.opts.ttlIntervalMs);
    // Idle cursors time out after 10 minutes, like MongoDB's default.
    this.cursorTimer = setInterval(() => {
      const limit = Date.now() - 10 * 60 * 1000;
      for (const [k, c] of this.cursors) if (c.lastUse < limit) this.cursors.delete(k);
    }, 60000);
    this.cursorTimer.unref();
  }

  // The same protocol on a unix domain socket as well: PATH, or "auto" for
  // mongod's default /tmp/mongodb-PORT.sock (drivers: mongodb://%2Ftmp%2Fmongodb-PORT.sock).
  // A stale socket file is replaced (not any other kind of file); the
  // socket is owner-only (0700 like mongod's filePermissions) and removed at exit.
  listenUnix(port, ready) {
    const fs = require('fs');
    const p = this.opts.unixSocket === 'auto' ? `/tmp/mongodb-${port}.sock` : this.opts.unixSocket;
    try { if (fs.lstatSync(p).isSocket()) fs.unlinkSync(p); } catch (e) { if (e.code !== 'ENOENT') throw e; }
    this.unixPath = p;
    this.unixNet = net.createServer((sock) => this.onConnection(sock));
    this.unixNet.on('error', (e) => { this.log.error(`listen on ${p} failed: ${e.message}`); process.exit(1); });
    this.unixNet.listen(p, () => {
      try { fs.chmodSync(p, 0o700); } catch (e) { this.log.warn(`chmod ${p}: ${e.message}`); }
      this.log.info(`listening on ${p}`);
      ready();
    });
    process.on('exit', () => { try { fs.unlinkSync(p); } catch (e) { /* gone */ } });
  }

  // (Re)start the TTL monitor (setParameter ttlMonitorSleepSecs changes it
  // at run time, as on mongod).
  setTTLInterval(ms) {
    if (this.ttlTimer) clearInterval(this.ttlTimer);
    this.opts.ttlIntervalMs = ms;
    this.ttlTimer = setInterval(() => { try { this.sweepTTL(); } catch (e) { this.log.error('TTL sweep: ' + e.stack); } }, ms);
    this.ttlTimer.unref();
  }

  // Delete documents whose TTL has passed (not ones locked by a transaction).
  sweepTTL() {
    let removed = 0;
    const now = Date.now();
    for (const d of this.store.dbs.values()) {
      for (const c of [...d.colls.values()]) {
        for (const ix of c.indexes) {
          if (ix.ttl === null || ix.isText) continue;
          const f = ix.fields[0];
          const view = this.store.view(d.name, c.name, null);
          for (const [idKey, { doc }] of [...c.docs]) {
            const vals = T.getPath(doc, f).flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v) => v instanceof Date);
            if (!vals.length) continue;
            if (ix.partial && !ix.partial(doc)) continue;
            const min = Math.min(...vals.map((v) => v.getTime()));
            if (min + ix.ttl * 1000 > now) continue;
            const lk = c.ns + '\0' + idKey;
            const h = this.store.locks.get(lk);
            if (h && h.state === 'inProgress') continue;
            view.write(idKey, null);
            removed++;
          }
        }
      }
    }
    if (removed) this.log.debug(`TTL removed ${removed} documents`);
    return removed;
  }

  onConnection(sock) {
    const conn = { id: ++this.connCount, sock, remote: `${sock.remoteAddress}:${sock.remotePort}`, queue: Promise.resolve(), closed: false };
    this.conns.add(conn);
    sock.setNoDelay(true);
    let buf = Buffer.alloc(0);
    const fail = (why) => {
      this.log.warn(`connection ${conn.id}: ${why}; closing`);
      conn.closed = true;
      sock.destroy();
    };
    sock.on('data', (chunk) => {
      if (conn.closed) return;
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let msgs;
      try { [msgs, buf] = wire.frame(buf); } catch (e) { fail(e.message); return; }
      for (const m of msgs) {
        // Commands on one connection run in order, one at a time.
        conn.queue = conn.queue.then(() => this.handle(conn, m)).catch((e) => fail(e && e.message || String(e)));
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => { conn.closed = true; this.conns.delete(conn); });
  }

  async handle(conn, raw) {
    if (conn.closed) return;
    let msg;
    try { msg = wire.parse(raw); } catch (e) { throw new Error('malformed message: ' + e.message); }
    if (msg.opCode === wire.OP_QUERY) {
      // Legacy OP_QUERY: only commands (db.$cmd) are supported, as in MongoDB 6.
      const dot = msg.ns.indexOf('.');
      const db = msg.ns.slice(0, dot);
      let q = msg.query;
      let reply;
      if (msg.ns.slice(dot + 1) !== '$cmd') {
        reply = { $err: 'OP_QUERY is no longer supported. The client driver may require an upgrade.', code: 5739101, ok: 0 };
      } else {
        if (q.$query !== undefined && T.isDocument(q.$query)) q = q.$query;
        const name = Object.keys(q)[0] || '';
        if (!['hello', 'ismaster', 'ismaster', 'ping', 'buildinfo', 'getnonce', 'endsessions'].includes(name.toLowerCase()) && name !== 'isMaster') {
          reply = { ok: 0, errmsg: `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade.`, code: 352, codeName: 'UnsupportedOpQueryCommand' };
        } else {
          reply = await runCommand(this, conn, { ...q, $db: db });
        }
      }
      if (!conn.closed) conn.sock.write(wire.opReply(msg.requestId, reply));
      return;
    }
    const reply = await runCommand(this, conn, msg.body);
    if (msg.moreToCome || conn.closed) return; // unacknowledged write: no reply
    let out;
    try { out = wire.opMsgReply(msg.requestId, reply); } catch (e) {
      out = wire.opMsgReply(msg.requestId, new MongoError(10334, 'reply could not be serialized: ' + e.message).toReply());
    }
    conn.sock.write(out);
  }

  shutdown(sig) {
    this.log.info(`received ${sig}, shutting down`);
    try { this.store.save(); } catch (e) { this.log.error('snapshot on shutdown failed: ' + e.message); }
    for (const c of this.conns) c.sock.destroy();
    this.net.close();
    if (this.unixNet) this.unixNet.close();
    process.exit(0);
  }
}

if (require.main === module) {
  const s = new Server(parseArgs(process.argv.slice(2)));
  process.on('SIGTERM', () => s.shutdown('SIGTERM'));
  process.on('SIGINT', () => s.shutdown('SIGINT'));
  process.on('uncaughtException', (e) => { s.log.error('uncaught: ' + (e && e.stack || e)); });
  process.on('unhandledRejection', (e) => { s.log.error('unhandled rejection: ' + (e && e.stack || e)); });
  s.start();
}

module.exports = { Server, parseArgs };
