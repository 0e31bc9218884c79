// killer.mjs - SIGKILLs a random FastCGI worker of the given pools every
// --every-ms for --seconds, and measures after each kill how long until
// every pool has its full size of live workers again.
//
//   node killer.mjs --masters PID[,PID...] --pool N --seconds S --every-ms MS
//
// Prints one JSON line: {kills, max_recovery_ms, over_1s, p50_ms, ...}.
// A worker is a live child of a master (a zombie not yet reaped counts as
// dead). Recovery of a kill is the first moment after it that every pool
// is full; a pool that is still short when the next kill comes keeps the
// earlier kill's clock running, so the figure never flatters.
import { readFileSync } from 'node:fs';

const arg = (n, d) => { const i = process.argv.indexOf(`--${n}`); return i > 0 ? process.argv[i + 1] : d; };
const masters = String(arg('masters', '')).split(',').filter(Boolean).map(Number);
const pool = Number(arg('pool', 0)), seconds = Number(arg('seconds', 20)), every = Number(arg('every-ms', 100));
if (!masters.length || !pool) { console.error('usage: killer.mjs --masters PID,... --pool N --seconds S --every-ms MS'); process.exit(2); }

function liveChildren(pid) {
	let kids;
	try { kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { return null; }
	return kids.filter((k) => {
		try { return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${k}/stat`, 'utf8')); } catch { return false; }
	});
}
const full = () => masters.every((m) => { const k = liveChildren(m); return k && k.length >= pool; });

const open = []; // kill times whose recovery is not seen yet
const rec = [];
let kills = 0, missed = 0;
const t0 = performance.now();
const poll = setInterval(() => {
	if (open.length && full()) {
		const now = performance.now();
		for (const t of open) rec.push(now - t);
		open.length = 0;
	}
}, 2);
const killOne = () => {
	const m = masters[Math.floor(Math.random() * masters.length)];
	const kids = liveChildren(m);
	if (!kids || !kids.length) { missed++; return; }
	const victim = kids[Math.floor(Math.random() * kids.length)];
	try { process.kill(victim, 'SIGKILL'); kills++; open.push(performance.now()); } catch { missed++; }
};
const killTimer = setInterval(() => {
	if (performance.now() - t0 > seconds * 1000) {
		clearInterval(killTimer);
		// the last kills get up to 5 s to recover before they count as never
		setTimeout(() => {
			clearInterval(poll);
			const never = open.length;
			rec.sort((a, b) => a - b);
			const q = (p) => (rec.length ? Math.round(rec[Math.min(rec.length - 1, Math.floor(p * rec.length))]) : null);
			console.log(JSON.stringify({ kills, missed, never_recovered: never, max_recovery_ms: rec.length ? Math.round(rec[rec.length - 1]) : null,
				p50_ms: q(0.5), p99_ms: q(0.99), over_1s: rec.filter((x) => x > 1000).length }));
		}, 5000);
		const wait = setInterval(() => { if (!open.length) { clearInterval(wait); } }, 10);
		return;
	}
	killOne();
}, every);
