'use strict';
// MongoDB wire protocol framing: OP_MSG (2013) and the legacy OP_QUERY (2004)
// / OP_REPLY (1) pair. The C driver (1.23) sends its handshake AND the
// heartbeats of a pooled client's monitor threads as OP_QUERY on admin.$cmd,
// so OP_QUERY must be answered for the whole life of a connection.
const { decode, encode } = require('./types');

const OP_REPLY = 1, OP_QUERY = 2004, OP_MSG = 2013, OP_COMPRESSED = 2012;
const MSG_CHECKSUM = 1, MSG_MORE_TO_COME = 2;
const MAX_MESSAGE = 48 * 1000 * 1000;

class ProtocolError extends Error {}

// Split a byte stream into whole messages. Returns [messages, rest].
function frame(buf) {
  const msgs = [];
  let off = 0;
  while (buf.length - off >= 4) {
    const len = buf.readInt32LE(off);
    if (len < 16 || len > MAX_MESSAGE) throw new ProtocolError('bad message length ' + len);
    if (buf.length - off < len) break;
    msgs.push(buf.subarray(off, off + len));
    off += len;
  }
  return [msgs, buf.subarray(off)];
}

function readCString(buf, off) {
  const end = buf.indexOf(0, off);
  if (end < 0) throw new ProtocolError('unterminated cstring');
  return [buf.toString('utf8', off, end), end + 1];
}

function readDoc(buf, off, limit) {
  if (off + 5 > limit) throw new ProtocolError('truncated document');
  const len = buf.readInt32LE(off);
  if (len < 5 || off + len > limit) throw new ProtocolError('bad document length');
  return [decode(buf.subarray(off, off + len)), off + len];
}

// Parse one message. Returns {opCode, requestId, ...}.
function parse(msg) {
  const requestId = msg.readInt32LE(4);
  const opCode = msg.readInt32LE(12);
  if (opCode === OP_MSG) {
    const flags = msg.readUInt32LE(16);
    if (flags & ~(MSG_CHECKSUM | MSG_MORE_TO_COME | 0x10000)) throw new ProtocolError('unknown required OP_MSG flag bits');
    let limit = msg.length;
    if (flags & MSG_CHECKSUM) limit -= 4; // CRC-32C trailer: not verified (loopback only)
    let off = 20;
    let body = null;
    const seqs = [];
    while (off < limit) {
      const kind = msg[off++];
      if (kind === 0) {
        if (body) throw new ProtocolError('two kind-0 sections');
        [body, off] = readDoc(msg, off, limit);
      } else if (kind === 1) {
        const size = msg.readInt32LE(off);
        const end = off + size;
        if (size < 5 || end > limit) throw new ProtocolError('bad sequence size');
        let id;
        [id, off] = readCString(msg, off + 4);
        const docs = [];
        while (off < end) { let d; [d, off] = readDoc(msg, off, end); docs.push(d); }
        seqs.push([id, docs]);
      } else {
        throw new ProtocolError('unknown section kind ' + kind);
      }
    }
    if (!body) throw new ProtocolError('OP_MSG without body');
    // Document sequences become array fields of the command body.
    for (const [id, docs] of seqs) {
      if (Object.prototype.hasOwnProperty.call(body, id)) throw new ProtocolError('duplicate field ' + id);
      body[id] = docs;
    }
    return { opCode, requestId, flags, moreToCome: !!(flags & MSG_MORE_TO_COME), body };
  }
  if (opCode === OP_QUERY) {
    let off = 20;
    let ns;
    [ns, off] = readCString(msg, off);
    off += 8; // numberToSkip, numberToReturn
    let query;
    [query, off] = readDoc(msg, off, msg.length);
    return { opCode, requestId, ns, query };
  }
  if (opCode === OP_COMPRESSED) throw new ProtocolError('compression was not negotiated');
  throw new ProtocolError('unsupported opCode ' + opCode);
}

let nextId = 1;
function header(len, responseTo, opCode) {
  const h = Buffer.alloc(16);
  h.writeInt32LE(len, 0);
  h.writeInt32LE(nextId++ & 0x7fffffff, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

function opMsgReply(responseTo, doc) {
  const body = encode(doc);
  const pre = Buffer.alloc(5); // flags(4)=0, kind(1)=0
  return Buffer.concat([header(16 + 5 + body.length, responseTo, OP_MSG), pre, body]);
}

function opReply(responseTo, doc) {
  const body = encode(doc);
  const pre = Buffer.alloc(20);
  pre.writeInt32LE(0, 0); // responseFlags
  pre.writeBigInt64LE(0n, 4); // cursorId
  pre.writeInt32LE(0, 12); // startingFrom
  pre.writeInt32LE(1, 16); // numberReturned
  return Buffer.concat([header(16 + 20 + body.length, responseTo, OP_REPLY), pre, body]);
}

module.exports = { frame, parse, opMsgReply, opReply, ProtocolError, OP_MSG, OP_QUERY, OP_REPLY };
