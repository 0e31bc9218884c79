'use strict';
// MongoDB error codes the application (or the drivers) branch on.
const CODES = {
  BadValue: 2, FailedToParse: 9, TypeMismatch: 14, IllegalOperation: 20, NamespaceNotFound: 26,
  IndexNotFound: 27, PathNotViable: 28, ConflictingUpdateOperators: 40, CursorNotFound: 43,
  NamespaceExists: 48, CommandNotFound: 59, ImmutableField: 66, InvalidOptions: 72,
  InvalidNamespace: 73, IndexOptionsConflict: 85, IndexKeySpecsConflict: 86, OperationFailed: 96,
  WriteConflict: 112, NoSuchTransaction: 251, TransactionTooOld: 225, NotImplemented: 238,
  DuplicateKey: 11000, Location40324: 40324, Location15955: 15955, InvalidIndexSpecificationOption: 197,
  CannotCreateIndex: 67, TransactionCommitted: 256, ShutdownInProgress: 91, QueryFeatureNotAllowed: 224,
  NotWritablePrimary: 10107, InvalidPipelineOperator: 168, UnknownError: 8, Unauthorized: 13,
  IndexAlreadyExists: 68, OperationNotSupportedInTransaction: 263, NoSuchKey: 4, NoSuchSession: 206,
  MaxTimeMSExpired: 50, WriteConcernFailed: 64, DocumentValidationFailure: 121, LockTimeout: 24, HostUnreachable: 6,
  HostNotFound: 7, NetworkTimeout: 89, PrimarySteppedDown: 189, InterruptedAtShutdown: 11600,
  InterruptedDueToReplStateChange: 11602, NotPrimaryNoSecondaryOk: 13435, NotPrimaryOrSecondary: 13436,
  ExceededTimeLimit: 262, SocketException: 9001, UnknownReplWriteConcern: 79, UnsatisfiableWriteConcern: 100,
  InvalidLength: 16, CollectionUUIDMismatch: 361,
};
const NAMES = {};
for (const [k, v] of Object.entries(CODES)) if (!/^Location/.test(k)) NAMES[v] = k;

class MongoError extends Error {
  constructor(code, message, extra) {
    super(message);
    this.code = typeof code === 'string' ? CODES[code] : code;
    this.codeName = NAMES[this.code] || (typeof code === 'string' ? code : 'Location' + this.code);
    this.labels = [];
    this.extra = extra || {};
  }
  withLabel(l) { if (!this.labels.includes(l)) this.labels.push(l); return this; }
  toReply() {
    const r = { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
    if (this.labels.length) r.errorLabels = this.labels;
    return r;
  }
}

const err = (code, msg, extra) => new MongoError(code, msg, extra);

module.exports = { MongoError, CODES, NAMES, err };
