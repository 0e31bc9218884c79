#!/usr/bin/python3
"""A tiny FastCGI responder standing in for emporium-fcgi in tests/config.

    fcgi_stub.py SOCKET_PATH

Listens on a unix socket and answers every request itself, so check.sh can
see what nginx sends to the app and what nginx does with the app's answer:

  /api/v1/products...   200 JSON with a per-process counter (micro-cache)
  /api/v1/missing       404 application/problem+json from the "app"
  anything else         200 JSON describing the request

Every answer echoes the REQUEST_ID param in X-Request-Id, tells whether
nginx asked to keep the connection (FCGI_KEEP_CONN) and sends a wildcard
Access-Control-Allow-Origin that nginx must hide. Standard library only.
"""
import json
import os
import socketserver
import struct
import sys
import threading

BEGIN, END, PARAMS, STDIN, STDOUT = 1, 3, 4, 5, 6
counter = 0
lock = threading.Lock()


def read_exact(f, n):
    data = b""
    while len(data) < n:
        chunk = f.read(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def parse_params(buf):
    params, i = {}, 0

    def length():
        nonlocal i
        b = buf[i]
        if b < 128:
            i += 1
            return b
        n = struct.unpack(">I", buf[i:i + 4])[0] & 0x7FFFFFFF
        i += 4
        return n

    while i < len(buf):
        kl = length()
        vl = length()
        k = buf[i:i + kl].decode("latin-1")
        i += kl
        params[k] = buf[i:i + vl].decode("latin-1")
        i += vl
    return params


def record(rtype, rid, content=b""):
    out = b""
    for off in range(0, max(len(content), 1), 65535):
        part = content[off:off + 65535]
        pad = (-len(part)) % 8
        out += struct.pack(">BBHHBx", 1, rtype, rid, len(part), pad) + part + b"\0" * pad
    return out


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        global counter
        f = self.rfile
        params_buf, body, keep, rid = b"", b"", False, 1
        try:
            while True:
                _ver, rtype, rid, clen, plen = struct.unpack(">BBHHBx", read_exact(f, 8))
                content = read_exact(f, clen)
                read_exact(f, plen)
                if rtype == BEGIN:
                    keep = bool(content[2] & 1)
                elif rtype == PARAMS:
                    params_buf += content
                elif rtype == STDIN:
                    if not content:
                        break
                    body += content
        except EOFError:
            return
        p = parse_params(params_buf)
        uri = p.get("DOCUMENT_URI", "")
        status, ctype = 200, "application/json"
        if uri.startswith("/api/v1/products"):
            with lock:
                counter += 1
                n = counter
            payload = {"counter": n}
        elif uri == "/api/v1/missing":
            status, ctype = 404, "application/problem+json"
            payload = {"type": "about:blank", "title": "Not Found", "status": 404,
                       "detail": "from the app"}
        else:
            payload = {}
        payload.update({
            "uri": uri,
            "method": p.get("REQUEST_METHOD"),
            "request_id": p.get("REQUEST_ID"),
            "https": p.get("HTTPS"),
            "keep_conn": keep,
            "body_length": len(body),
            "http_proxy": p.get("HTTP_PROXY"),
            "remote_addr": p.get("REMOTE_ADDR"),
        })
        if "big=1" in p.get("QUERY_STRING", ""):  # a large answer (compression checks)
            payload["padding"] = "catalog " * 400
        data = json.dumps(payload).encode()
        head = (f"Status: {status}\r\nContent-Type: {ctype}\r\n"
                f"X-Request-Id: {p.get('REQUEST_ID', '')}\r\n"
                "Access-Control-Allow-Origin: *\r\n"
                f"Content-Length: {len(data)}\r\n\r\n").encode()
        self.wfile.write(record(STDOUT, rid, head + data) + record(STDOUT, rid)
                         + record(END, rid, struct.pack(">IB3x", 0, 0)))


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    srv = Server(path, Handler)
    os.chmod(path, 0o666)
    srv.serve_forever()


if __name__ == "__main__":
    main()
