// abuse.mjs - clients that try to tie nginx and the app up, from their own
// loopback address (--from, default 127.0.0.2, so nginx's per-address
// limits count them apart from the steady load on 127.0.0.1).
//
//   node abuse.mjs slowloris N      headers one byte a second, never done
//   node abuse.mjs stall N          a POST whose body stops after 10 bytes
//   node abuse.mjs dribble N SECS   a POST whose body comes a byte a second
//                                   (never times out: each byte resets
//                                   client_body_timeout), for SECS seconds
//   node abuse.mjs big N            POSTs of 8 MB (Content-Length), and as
//                                   many of 2 MB chunked
//
// Prints one JSON line: how each connection ended ({status or "closed"} ->
// count) and after how long at most (max_s). Environment: STACK_BASE,
// STACK_CA.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

const base = new URL(process.env.STACK_BASE);
const ca = readFileSync(process.env.STACK_CA);
const fromI = process.argv.indexOf('--from');
const from = fromI > 0 ? process.argv[fromI + 1] : '127.0.0.2';
const [mode, nArg, secsArg] = process.argv.slice(2);
const n = Number(nArg);
const t0 = performance.now();

// conn(writer): one TLS connection; writer(sock) sends; resolves with
// {end: "408"|"413"|"closed"|..., s: seconds from the start}
function conn(writer, limitS) {
	return new Promise((resolve) => {
		let buf = '', done = false, timers = [];
		const sock = tls.connect({ host: base.hostname, port: Number(base.port), localAddress: from, ca,
			servername: 'localhost', ALPNProtocols: ['http/1.1'] });
		const finish = (end) => {
			if (done) return;
			done = true;
			timers.forEach(clearInterval); timers.forEach(clearTimeout);
			sock.destroy();
			resolve({ end, s: (performance.now() - t0) / 1000 });
		};
		sock.on('secureConnect', () => writer(sock, timers));
		sock.on('data', (d) => {
			buf += d.toString('latin1');
			const m = /^HTTP\/1\.1 (\d{3})/.exec(buf);
			if (m) finish(m[1]);
		});
		sock.on('error', () => finish('closed'));
		sock.on('close', () => finish('closed'));
		timers.push(setTimeout(() => finish('still open'), limitS * 1000));
	});
}

const head = (method, p, extra) =>
	`${method} ${p} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: abuse.mjs\r\n${extra}`;
const drip = (sock, timers, text, everyMs) => {
	let i = 0;
	timers.push(setInterval(() => { if (i < text.length) sock.write(text[i++]); }, everyMs));
};

const modes = {
	slowloris: () => conn((s, t) => drip(s, t, head('GET', '/api/v1/health', 'X-a: ' + 'b'.repeat(200)), 1000), 30),
	stall: () => conn((s) => s.write(head('POST', '/api/v1/cart/items',
		'Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n{"sku": "x"')), 30),
	dribble: () => conn((s, t) => {
		s.write(head('POST', '/api/v1/cart/items', 'Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n'));
		drip(s, t, ' '.repeat(4096), 1000);
	}, Number(secsArg || 10)),
	big: (i) => conn((s) => {
		const chunk = Buffer.alloc(64 * 1024, 0x20);
		if (i % 2 === 0) {
			s.write(head('POST', '/api/v1/cart/items', 'Content-Type: application/json\r\nContent-Length: 8388608\r\n\r\n'));
			let sent = 0;
			const pump = () => { while (sent < 8388608 && s.write(chunk)) sent += chunk.length; if (sent < 8388608) s.once('drain', pump); };
			pump();
		} else {
			s.write(head('POST', '/api/v1/cart/items', 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'));
			let sent = 0;
			const hex = chunk.length.toString(16);
			const pump = () => {
				let more = true;
				while (sent < 2 * 1048576 && more) {
					s.write(`${hex}\r\n`); s.write(chunk); more = s.write('\r\n');
					sent += chunk.length;
				}
				if (sent < 2 * 1048576) s.once('drain', pump); else s.write('0\r\n\r\n');
			};
			pump();
		}
	}, 20),
};
if (!modes[mode] || !(n > 0)) {
	console.error('usage: abuse.mjs slowloris|stall|dribble|big N [SECS] [--from ADDR]');
	process.exit(2);
}
const res = await Promise.all([...Array(n).keys()].map((i) => modes[mode](i)));
const ends = {};
for (const r of res) ends[r.end] = (ends[r.end] || 0) + 1;
console.log(JSON.stringify({ mode, n, ends, max_s: Math.round(Math.max(...res.map((r) => r.s)) * 10) / 10,
	min_s: Math.round(Math.min(...res.map((r) => r.s)) * 10) / 10 }));
