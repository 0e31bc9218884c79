'use strict';
// Shared helpers for the compat suite: start stand-ins, connect clients.
const { spawn } = require('child_process');
const path = require('path');
const { MongoClient } = require('mongodb');

const SERVER = path.join(__dirname, '..', 'server.js');
const REAL = !!process.env.MONGODB_URI; // running against a real MongoDB

// Start a stand-in; resolves {port, uri, proc, stop()} once the ready line
// has been printed.
function startStandin(args = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SERVER, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', errOut = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('stand-in did not start: ' + errOut)); }, 10000);
    proc.stderr.on('data', (d) => { errOut += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /^mongo-standin ready on (\S+):(\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[2]);
        resolve({
          port, proc,
          stop: (sig = 'SIGTERM') => new Promise((r) => { if (proc.exitCode !== null) return r(proc.exitCode); proc.once('exit', (c) => r(c)); proc.kill(sig); }),
        });
      }
    });
    proc.on('exit', (c) => { clearTimeout(timer); reject(new Error('stand-in exited with ' + c + ': ' + errOut)); });
  });
}

async function connect(uri) {
  const c = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await c.connect();
  return c;
}

module.exports = { startStandin, connect, REAL, SERVER };
