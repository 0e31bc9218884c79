// bench/jobs/feed.js - fills a jobs collection and waits for it to drain.
//   node feed.js insert URI DB N TYPE   N pending jobs of TYPE ("email": a
//                                       verify_email mail each)
//   node feed.js wait URI DB N          waits until N jobs are done or dead;
//                                       prints the seconds since it started
const path = require('path');
const { MongoClient } = require(path.join(__dirname, '../../tests/mongo-standin/node_modules/mongodb'));

async function main() {
  const [cmd, uri, db, nStr, type] = process.argv.slice(2);
  const n = parseInt(nStr, 10);
  const client = new MongoClient(uri, { directConnection: true });
  await client.connect();
  const jobs = client.db(db).collection('jobs');
  if (cmd === 'insert') {
    const now = new Date();
    const docs = [];
    for (let i = 0; i < n; i++) {
      docs.push({
        type, dedupe_key: `bench:${i}`, status: 'pending', run_after: now, attempts: 0,
        lease_until: null, last_error: null, created_at: now, updated_at: now,
        payload: { to: `bench${i}@example.test`, template: 'verify_email',
          vars: { name: 'Bench', code: String(i).padStart(6, '0') } },
      });
    }
    for (let i = 0; i < docs.length; i += 1000) await jobs.insertMany(docs.slice(i, i + 1000));
  } else if (cmd === 'wait') {
    const t0 = process.hrtime.bigint();
    for (;;) {
      const c = await jobs.countDocuments({ status: { $in: ['done', 'dead'] } });
      if (c >= n) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    console.log((Number(process.hrtime.bigint() - t0) / 1e9).toFixed(3));
  }
  await client.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
