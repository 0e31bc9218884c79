#!/usr/bin/python3
"""A local SMTP server that writes every message it receives to DIR as an
.eml file, for ./scripts/run and the tests. Debian's python3-aiosmtpd: run
with /usr/bin/python3 (the python3 on PATH may be another interpreter).

With --tls-cert/--tls-key it offers STARTTLS and refuses mail without it;
with --auth-user/--auth-password it requires SMTP AUTH (PLAIN or LOGIN,
after STARTTLS) with exactly those credentials. Each saved message starts
with X-Envelope-From/-To lines, then X-Catcher-TLS (yes/no) and
X-Catcher-Auth (the login, or "none"): how the session that sent it was
secured, for the tests to check."""
import argparse
import asyncio
import hmac
import os
import signal
import ssl
import time
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class SaveToDir:
    def __init__(self, directory):
        self.directory = directory
        self.busy = 0           # DATA commands being saved
        self.last_saved = 0.0   # monotonic time of the last one

    async def handle_DATA(self, server, session, envelope):
        self.busy += 1
        try:
            return self.save(session, envelope)
        finally:
            self.busy -= 1
            self.last_saved = time.monotonic()

    def save(self, session, envelope):
        name = "%d-%s.eml" % (time.time_ns(), uuid.uuid4().hex[:8])
        tmp = os.path.join(self.directory, "." + name)
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-From: " + envelope.mail_from.encode() + b"\r\n")
            for rcpt in envelope.rcpt_tos:
                f.write(b"X-Envelope-To: " + rcpt.encode() + b"\r\n")
            f.write(b"X-Catcher-TLS: " + (b"yes" if session.ssl else b"no") + b"\r\n")
            login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
            f.write(b"X-Catcher-Auth: " + (login if login else b"none") + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        # rename: a reader never sees half a message
        os.rename(tmp, os.path.join(self.directory, name))
        return "250 Message accepted for delivery"


class Credentials:
    """An authenticator accepting one login and password."""

    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and
              hmac.compare_digest(auth_data.login, self.user) and
              hmac.compare_digest(auth_data.password, self.password))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tls-cert", help="PEM certificate: offer and require STARTTLS")
    ap.add_argument("--tls-key", help="PEM private key of --tls-cert")
    ap.add_argument("--auth-user", help="require SMTP AUTH as this user")
    ap.add_argument("--auth-password", default="")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    params = {}
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        params.update(tls_context=ctx, require_starttls=True)
    if args.auth_user:
        params.update(authenticator=Credentials(args.auth_user, args.auth_password),
                      auth_required=True, auth_require_tls=bool(args.tls_cert))
    handler = SaveToDir(args.dir)
    controller = Controller(handler, hostname=args.host, port=args.port, **params)
    controller.start()
    print("smtp-catcher ready on %s:%d" % (args.host, args.port), flush=True)
    loop = asyncio.new_event_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    loop.run_until_complete(stop)
    # Stop as a mail server does: take no new connection, let a mail being
    # saved get its 250 out (a mail saved whose reply is lost is sent
    # again by the client: one mail delivered twice), then go.
    controller.loop.call_soon_threadsafe(controller.server.close)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (
            handler.busy or time.monotonic() - handler.last_saved < 0.3):
        time.sleep(0.05)
    controller.stop()


if __name__ == "__main__":
    main()
