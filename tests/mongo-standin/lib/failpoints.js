'use strict';
// Fault injection for tests: MongoDB's `configureFailPoint` test command with
// the `failCommand` fail point (mongod only has it with
// --setParameter enableTestCommands=1; the stand-in with
// --enable-test-commands). Supported data fields, as in mongod:
//   failCommands: [names]          commands the fail point applies to
//   errorCode: N                   fail them with this code (not executed)
//   errorLabels: [labels]          labels of that reply (else the usual ones)
//   closeConnection: true          drop the connection instead of replying
//   writeConcernError: {code, errmsg, errInfo}  run the command, then add this
//   blockConnection + blockTimeMS  wait that long before running it
//   appName: "x"                   only for clients that said so in hello
// Modes: "alwaysOn", "off", {times: N}, {skip: N}, {activationProbability: p}.
const { isDocument, numKind, toNumber } = require('./types');
const { err, NAMES } = require('./errors');

// Codes mongod labels RetryableWriteError (for retryable writes and commits).
const RETRYABLE = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 63, 150, 13388, 134]);
const TRANSIENT = new Set([24, 112, 251]);

const int = (v, what) => {
  if (!numKind(v) || !Number.isInteger(toNumber(v))) throw err('TypeMismatch', `failCommand: '${what}' must be an integer`);
  return toNumber(v);
};

function parseMode(m) {
  if (m === 'off') return { kind: 'off' };
  if (m === 'alwaysOn') return { kind: 'on' };
  if (isDocument(m)) {
    if (m.times !== undefined) { const n = int(m.times, 'times'); if (n < 0) throw err('BadValue', 'times must be >= 0'); return { kind: 'times', n }; }
    if (m.skip !== undefined) { const n = int(m.skip, 'skip'); if (n < 0) throw err('BadValue', 'skip must be >= 0'); return { kind: 'skip', n }; }
    if (m.activationProbability !== undefined) {
      const p = toNumber(m.activationProbability);
      if (!(p >= 0 && p <= 1)) throw err('BadValue', 'activationProbability must be between 0 and 1');
      return { kind: 'random', p };
    }
  }
  throw err('BadValue', "mode must be 'off', 'alwaysOn' or an object with times, skip or activationProbability");
}

function parseData(d) {
  if (d === undefined) d = {};
  if (!isDocument(d)) throw err('TypeMismatch', "'data' must be an object");
  const known = new Set(['failCommands', 'errorCode', 'errorLabels', 'closeConnection', 'writeConcernError', 'blockConnection',
    'blockTimeMS', 'appName', 'failInternalCommands', 'errorExtraInfo', 'namespace']);
  for (const k of Object.keys(d)) if (!known.has(k)) throw err('BadValue', `mongo-standin: failCommand data field '${k}' is not implemented`);
  const out = { commands: null, errorCode: null, errorLabels: null, close: !!d.closeConnection, wce: null, blockMs: 0, appName: null, extra: null };
  if (d.failCommands !== undefined) {
    if (!Array.isArray(d.failCommands) || d.failCommands.some((c) => typeof c !== 'string')) throw err('TypeMismatch', "'failCommands' must be an array of strings");
    out.commands = new Set(d.failCommands.map((c) => c.toLowerCase()));
  }
  if (d.errorCode !== undefined) out.errorCode = int(d.errorCode, 'errorCode');
  if (d.errorLabels !== undefined) {
    if (!Array.isArray(d.errorLabels) || d.errorLabels.some((c) => typeof c !== 'string')) throw err('TypeMismatch', "'errorLabels' must be an array of strings");
    out.errorLabels = d.errorLabels.slice();
  }
  if (d.writeConcernError !== undefined) {
    if (!isDocument(d.writeConcernError)) throw err('TypeMismatch', "'writeConcernError' must be an object");
    out.wce = d.writeConcernError;
  }
  if (d.blockConnection) out.blockMs = d.blockTimeMS === undefined ? 0 : int(d.blockTimeMS, 'blockTimeMS');
  if (d.appName !== undefined) { if (typeof d.appName !== 'string') throw err('TypeMismatch', "'appName' must be a string"); out.appName = d.appName; }
  if (d.errorExtraInfo !== undefined) { if (!isDocument(d.errorExtraInfo)) throw err('TypeMismatch', "'errorExtraInfo' must be an object"); out.extra = d.errorExtraInfo; }
  if (!out.commands) throw err('BadValue', "failCommand needs 'failCommands'");
  return out;
}

class FailPoints {
  constructor() { this.fc = null; this.entered = 0; }

  // The configureFailPoint command. Returns {count} like mongod: how many
  // times the previous configuration fired.
  configure(cmd) {
    const name = cmd.configureFailPoint;
    if (name !== 'failCommand') throw err('BadValue', `mongo-standin: fail point '${name}' is not implemented (only failCommand)`);
    const mode = parseMode(cmd.mode);
    const count = this.entered;
    this.entered = 0;
    this.fc = mode.kind === 'off' ? null : { mode, data: parseData(cmd.data) };
    return { count, ok: 1 };
  }

  // The action for this command on this connection, or null. Consumes one
  // of `times`.
  take(cmdName, conn) {
    const fc = this.fc;
    if (!fc || !fc.data.commands.has(cmdName.toLowerCase())) return null;
    if (fc.data.appName !== null && conn.appName !== fc.data.appName) return null;
    const m = fc.mode;
    if (m.kind === 'skip') { if (m.n > 0) { m.n--; return null; } } else if (m.kind === 'random') { if (Math.random() >= m.p) return null; } else if (m.kind === 'times') {
      if (m.n <= 0) { this.fc = null; return null; }
      m.n--;
      if (m.n === 0) this.fc = null;
    }
    this.entered++;
    return fc.data;
  }
}

// The reply for a failCommand errorCode: mongod's message; labels as given,
// else the ones mongod would add for that code.
function failReply(data, cmdName, cmd) {
  const code = data.errorCode;
  const r = { ok: 0, errmsg: "Failing command via 'failCommand' failpoint", code, codeName: NAMES[code] || 'Location' + code };
  if (data.extra) Object.assign(r, data.extra);
  let labels = data.errorLabels;
  if (!labels) {
    labels = [];
    const lname = cmdName.toLowerCase();
    const inTxn = cmd.autocommit === false;
    if (inTxn && lname !== 'committransaction' && lname !== 'aborttransaction' && TRANSIENT.has(code)) labels.push('TransientTransactionError');
    if (RETRYABLE.has(code) && (lname === 'committransaction' || lname === 'aborttransaction' || (!inTxn && cmd.txnNumber !== undefined))) labels.push('RetryableWriteError');
  }
  if (labels.length) r.errorLabels = labels;
  return r;
}

function addWriteConcernError(reply, data) {
  const w = data.wce;
  const code = w.code === undefined ? 64 : int(w.code, 'writeConcernError.code');
  reply.writeConcernError = { code, codeName: w.codeName || NAMES[code] || 'Location' + code, errmsg: w.errmsg || 'Failing write concern via failCommand failpoint' };
  if (w.errInfo !== undefined) reply.writeConcernError.errInfo = w.errInfo;
  if (data.errorLabels) reply.errorLabels = [...(reply.errorLabels || []), ...data.errorLabels];
  return reply;
}

module.exports = { FailPoints, failReply, addWriteConcernError };
