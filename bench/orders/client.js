// bench/orders/client.js - what the Node benchmark tools share: requests to
// the local stack over HTTPS and access tokens minted as src/auth/auth.h
// specifies (HS256 with the stack's secret), for customers planted in the
// database, and the CPU ticks of a stack process from /proc. Loopback only.
'use strict';
const fs = require('fs');
const https = require('https');
const crypto = require('crypto');

const env = (k) => { if (!process.env[k]) { console.error(`${k} is not set`); process.exit(2); } return process.env[k]; };

// A client of STACK_BASE with at most maxSockets connections (keep-alive),
// each request given up after timeoutMs:
// request(method, path, token, body, headers) -> {status, body}.
function client(maxSockets, timeoutMs = 30000) {
  const base = new URL(env('STACK_BASE'));
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) { console.error('loopback only'); process.exit(2); }
  // the stack's certificate is self-signed for the local stack: loopback only (checked above)
  const agent = new https.Agent({ keepAlive: true, maxSockets, rejectUnauthorized: false });
  const request = (method, p, token, body, headers = {}) => new Promise((resolve) => {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    if (data) { h['Content-Type'] = 'application/json'; h['Content-Length'] = data.length; }
    const req = https.request({ host: base.hostname, port: base.port, path: p, method, headers: h, agent, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, body: String(e) }));
    if (data) req.write(data);
    req.end();
  });
  return { request, agent };
}

function must(r, what, ok = [200, 201]) {
  if (!ok.includes(r.status)) throw new Error(`${what}: ${r.status} ${r.body.slice(0, 300)}`);
  return r.body ? JSON.parse(r.body) : null;
}

const b64u = (b) => Buffer.from(b).toString('base64url');
// An access token of user id with role, valid for ttl seconds.
function token(id, role, ttl = 900) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const claims = b64u(JSON.stringify({
    iss: process.env.STACK_JWT_ISSUER || 'emporium', aud: process.env.STACK_JWT_AUDIENCE || 'emporium-api',
    sub: id, role, jti: crypto.randomBytes(16).toString('hex'), iat: now, exp: now + ttl,
  }));
  const sig = crypto.createHmac('sha256', env('STACK_JWT_SECRET')).update(`${head}.${claims}`).digest('base64url');
  return `${head}.${claims}.${sig}`;
}

// n verified users of role in db (users), with their tokens.
async function plantUsers(db, ObjectId, role, n, ttl = 900) {
  const now = new Date(), docs = [];
  for (let i = 0; i < n; i++) {
    const _id = new ObjectId();
    docs.push({ _id, email: `bench-${role}-${_id.toHexString()}@test.invalid`, name: 'Bench User', role,
      email_verified: true, disabled: false, password_hash: null, created_at: now, updated_at: now });
  }
  for (let i = 0; i < docs.length; i += 1000) await db.collection('users').insertMany(docs.slice(i, i + 1000));
  return docs.map((d) => token(d._id.toHexString(), role, ttl));
}

// CPU ticks of the process in a pid file and its children (+ reaped children)
function cpuTicks(pidfile) {
  const pid = fs.readFileSync(pidfile, 'utf8').trim();
  let pids = [pid];
  try {
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
      pids = pids.concat(fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
    }
  } catch (e) { /* a task gone between the two reads */ }
  let sum = 0;
  for (const p of pids) {
    try {
      const f = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      // fields 14..17 (utime stime cutime cstime); rest[0] is field 3
      sum += Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]);
    } catch (e) { /* a worker that exited: its ticks are in the master's cutime */ }
  }
  return sum;
}

module.exports = { env, client, must, token, plantUsers, cpuTicks };
