'use strict';
// Query plans: `explain` for find / count / aggregate / delete / update /
// findAndModify (MongoDB's shape: queryPlanner.winningPlan, with the access
// stage IXSCAN + indexName, TEXT_MATCH, OR or COLLSCAN; executionStats when
// verbosity asks for it), and the test command standinQueryPlans (with
// --enable-test-commands) that records the plans every query chose, so a
// test driving the application can ask which index served each request.
const T = require('../types');
const { isDocument } = T;
const { err } = require('../errors');
const { _internal: C } = require('./crud');
const planner = require('../planner');

// winningPlan tree: [SORT] / [LIMIT] above the access stage, as mongod
function winning(plan, sort, limit) {
  let stage = planner.describe(plan);
  if (plan.type !== 'COLLSCAN' && plan.type !== 'TEXT' && plan.type !== 'IDHACK') stage = { stage: 'FETCH', inputStage: stage };
  const sorted = sort && Object.keys(sort).length;
  if (sorted && !(plan.type === 'IXSCAN' && plan.scanDir)) {
    stage = { stage: 'SORT', sortPattern: sort, ...(limit ? { limitAmount: limit } : {}), inputStage: stage };
  } else if (limit) stage = { stage: 'LIMIT', limitAmount: limit, inputStage: stage };
  return stage;
}

function explainOf(ctx, ns, coll, filter, sort, limit, skip, verbosity) {
  const view = ctx.view(ctx.db, coll, ctx.txn);
  const r = C.runQuery(view, filter, { sort, limit, skip, op: 'explain' });
  const out = {
    queryPlanner: { namespace: ns, parsedQuery: filter || {}, winningPlan: winning(r.plan, sort, limit), rejectedPlans: [] },
  };
  if (verbosity !== 'queryPlanner') {
    out.executionStats = {
      executionSuccess: true, nReturned: r.docs.length, totalKeysExamined: r.stats.keysExamined,
      totalDocsExamined: r.stats.docsExamined,
    };
  }
  out.serverInfo = { host: 'mongo-standin', version: '6.0.0' };
  out.ok = 1;
  return out;
}

function explain(ctx, cmd) {
  const inner = cmd.explain;
  if (!isDocument(inner) || !Object.keys(inner).length) throw err('FailedToParse', 'explain command requires a nested object');
  const verbosity = cmd.verbosity === undefined ? 'allPlansExecution' : cmd.verbosity;
  if (!['queryPlanner', 'executionStats', 'allPlansExecution'].includes(verbosity)) throw err('FailedToParse', `verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}`);
  const name = Object.keys(inner)[0];
  const lname = name.toLowerCase();
  const coll = inner[name];
  if (typeof coll !== 'string' || !coll) throw err('InvalidNamespace', 'explain: collection name must be a string');
  const ns = ctx.db + '.' + coll;
  const num = (v) => (v === undefined || v === null ? 0 : Math.abs(T.toNumber(v)));
  switch (lname) {
    case 'find':
      return explainOf(ctx, ns, coll, C.optDoc(inner.filter, 'filter'), C.optDoc(inner.sort, 'sort'), num(inner.limit), num(inner.skip), verbosity);
    case 'count':
      return explainOf(ctx, ns, coll, C.optDoc(inner.query, 'query'), null, num(inner.limit), num(inner.skip), verbosity);
    case 'findandmodify':
      return explainOf(ctx, ns, coll, C.optDoc(inner.query, 'query'), C.optDoc(inner.sort, 'sort'), 1, 0, verbosity);
    case 'delete': case 'update': {
      const st = (inner[lname === 'delete' ? 'deletes' : 'updates'] || [])[0];
      if (!isDocument(st)) throw err('FailedToParse', `explain ${name} needs one statement`);
      const one = lname === 'delete' ? num(st.limit) === 1 : !st.multi;
      return explainOf(ctx, ns, coll, C.optDoc(st.q, 'q'), null, one ? 1 : 0, 0, verbosity);
    }
    case 'aggregate': {
      const p = Array.isArray(inner.pipeline) ? inner.pipeline : [];
      return aggregateExplain(ctx, ns, coll, p, verbosity);
    }
    default:
      throw err('BadValue', `mongo-standin: explain of '${name}' is not implemented`);
  }
}

// The plan of an aggregate's leading $match (+ $sort/$limit), as the
// aggregate command runs it; later stages are listed by name.
function aggregateExplain(ctx, ns, coll, pipeline, verbosity) {
  let filter = {}, sort = null, limit = 0, used = 0;
  if (pipeline[0] && isDocument(pipeline[0].$match)) { filter = pipeline[0].$match; used = 1; }
  while (pipeline[used] && isDocument(pipeline[used].$match) && pipeline[used].$match.$text === undefined && filter.$text === undefined && filter.$and === undefined) {
    filter = { ...filter, $and: [pipeline[used].$match] }; used++;
  }
  if (pipeline[used] && isDocument(pipeline[used].$sort) && Object.values(pipeline[used].$sort).every((v) => T.numKind(v))) {
    sort = pipeline[used].$sort;
    const l = pipeline[used + 1] && pipeline[used + 1].$limit;
    if (l !== undefined && T.numKind(l)) limit = T.toNumber(l);
  }
  const r = explainOf(ctx, ns, coll, filter, sort, limit, 0, verbosity);
  r.stages = [{ $cursor: { queryPlanner: r.queryPlanner } }, ...pipeline.slice(used).map((s) => ({ [Object.keys(s)[0]]: s[Object.keys(s)[0]] }))];
  return r;
}

// {standinQueryPlans: 1, record: true|false, clear: true} -> {plans: [...]}
// record: start (true) or stop (false) recording; clear: empty the log.
// Each plan: ns, op, filterKeys, sortKeys, stage (IXSCAN, COLLSCAN,
// TEXT_MATCH, OR), indexName / indexNames, keysExamined, docsExamined,
// nReturned.
function standinQueryPlans(ctx, cmd) {
  if (!ctx.server.opts.enableTestCommands) throw err('CommandNotFound', "no such command: 'standinQueryPlans'");
  if (ctx.db !== 'admin') throw err('Unauthorized', 'standinQueryPlans may only be run against the admin database.');
  const store = ctx.store;
  const plans = store.planLog ? store.planLog.slice() : [];
  if (cmd.record === true && !store.planLog) store.planLog = [];
  if (cmd.record === false) store.planLog = null;
  if (cmd.clear === true && store.planLog) store.planLog.length = 0;
  return { plans, recording: !!store.planLog, ok: 1 };
}

module.exports = { explain, standinQueryPlans };
