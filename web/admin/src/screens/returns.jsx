// returns.jsx - customers' returns for staff: one return with its items,
// reason, timeline and the step it waits for (approve or reject a requested
// return; record an approved one's parcel as received, each line back to
// stock or not), used on the order screen and on the Returns screen.
//
// The Returns screen is the staff's queue across orders
// (GET /admin/returns: newest first, by state, open = requested or
// approved, and by the customer's e-mail); an order's own screen lists its
// returns (GET /admin/orders/{id}/returns).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, query, request } from '../api.js';
import { formatMoney } from '../money.js';
import { Link } from '../router.jsx';
import { ErrorSummary, Field, Loading, Pager, Status, aria, fmtDate, usePager } from '../ui.jsx';

const STATES = ['requested', 'approved', 'received', 'rejected'];

// One return and its next step. order: {id, number, currency}; onChange(r)
// gets the return as the API answered after a step.
export function ReturnCard({ order, r, onChange }) {
	const [step, setStep] = useState(null); // 'approve' | 'reject' | 'receive'
	const [err, setErr] = useState(null);
	const [busy, setBusy] = useState(false);
	const [msg, setMsg] = useState('');
	const id = `ret-${r.id}`;
	// a return's number is its order's; its id's tail tells an order's returns apart
	const tag = r.id.slice(-8);
	const submit = async (e) => {
		e.preventDefault();
		const f = new FormData(e.currentTarget);
		const note = String(f.get('note') || '').trim();
		let body = {};
		if (step === 'approve') body = note ? { note } : {};
		else if (step === 'reject') body = { reason: String(f.get('reason') || '').trim() };
		else body = { lines: r.items.map((it) => ({ sku: it.sku, restock: f.get(`restock-${it.sku}`) === 'on' })), ...(note ? { note } : {}) };
		setBusy(true);
		setErr(null);
		try {
			const res = await request('POST', `/api/v1/admin/orders/${order.id}/returns/${r.id}/${step}`, { json: body });
			setStep(null);
			setMsg(`Return ${res.data.id.slice(-8)} is now ${res.data.status}.`);
			onChange(res.data);
		} catch (x) {
			setErr(x);
		} finally {
			setBusy(false);
		}
	};
	const label = { approve: 'Approve', reject: 'Reject', receive: 'Record as received' };
	return (
		<article class="return" aria-labelledby={`${id}-h`}>
			<h3 id={`${id}-h`}>
				Return <span title={r.id}>{tag}</span> <span class={`badge rt-${r.status}`}>{r.status}</span>
				<span class="muted"> of order </span>
				<Link href={`/orders/${order.id}`}>{order.number}</Link>
			</h3>
			<p class="meta">
				Asked for {fmtDate(r.created_at)}: “{r.reason}”
				{r.reject_reason && <span> · rejected: “{r.reject_reason}”</span>}
				{r.refund_amount !== null && r.refund_amount !== undefined && (
					<span>
						{' '}
						· refund {formatMoney(r.refund_amount, r.currency)}
						{r.refund_id ? ' (refunded)' : r.refund_id === null ? ' (nothing left to refund)' : r.refund_requested ? ' (to be refunded)' : ''}
					</span>
				)}
			</p>
			<ul class="return-items" aria-label={`Items of return ${tag}`}>
				{r.items.map((it) => {
					const got = (r.received || []).find((x) => x.sku === it.sku);
					return (
						<li key={it.sku}>
							{it.quantity} × {it.title} <span class="muted">({it.sku})</span>
							{got && <span class="muted"> · {got.restock ? 'back to stock' : 'not restocked'}, {formatMoney(got.refund_amount, r.currency)}</span>}
						</li>
					);
				})}
			</ul>
			<Status text={msg} />
			{(r.status === 'requested' || r.status === 'approved') && !step && (
				<div class="actions">
					{r.status === 'requested' && (
						<button type="button" class="primary" onClick={() => (setStep('approve'), setErr(null))} aria-label={`Approve return ${tag}`}>
							Approve
						</button>
					)}
					{r.status === 'requested' && (
						<button type="button" class="danger" onClick={() => (setStep('reject'), setErr(null))} aria-label={`Reject return ${tag}`}>
							Reject
						</button>
					)}
					{r.status === 'approved' && (
						<button type="button" class="primary" onClick={() => (setStep('receive'), setErr(null))} aria-label={`Receive return ${tag}`}>
							Parcel received
						</button>
					)}
				</div>
			)}
			{step && (
				<form class="transition" onSubmit={submit} noValidate aria-label={`${label[step]} return ${tag}`}>
					<ErrorSummary err={err} />
					{step === 'receive' && (
						<fieldset>
							<legend>Back to stock?</legend>
							{r.items.map((it) => (
								<div class="field check" key={it.sku}>
									<input type="checkbox" id={`${id}-restock-${it.sku}`} name={`restock-${it.sku}`} defaultChecked />
									<label for={`${id}-restock-${it.sku}`}>
										Restock {it.quantity} × {it.sku}
									</label>
								</div>
							))}
						</fieldset>
					)}
					{step === 'reject' ? (
						<Field label="Reason (mailed to the customer)" name="reason" err={err} id={`${id}-reason`}>
							<input maxLength={500} required {...aria('reason', err, false, `${id}-reason`)} />
						</Field>
					) : (
						<Field label="Note (optional)" name="note" err={err} id={`${id}-note`}>
							<input maxLength={500} {...aria('note', err, false, `${id}-note`)} />
						</Field>
					)}
					<div class="actions">
						<button type="submit" class={step === 'reject' ? 'danger' : 'primary'} disabled={busy}>
							{label[step]}
						</button>
						<button type="button" onClick={() => (setStep(null), setErr(null))}>
							Back
						</button>
					</div>
				</form>
			)}
			<details>
				<summary>Timeline</summary>
				<ol class="timeline">
					{r.events.map((ev, i) => (
						<li key={i}>
							<time dateTime={ev.at}>{fmtDate(ev.at)}</time> <strong>{ev.to}</strong>
							{ev.by && <span class="muted"> by {ev.by.role}</span>}
							{ev.note && <span class="note"> · {ev.note}</span>}
						</li>
					))}
				</ol>
			</details>
		</article>
	);
}

// The order screen's returns section (nothing shown for an order without any).
export function OrderReturns({ o, onChange }) {
	const [items, setItems] = useState(null);
	const [err, setErr] = useState(null);
	useEffect(() => {
		get(`/api/v1/admin/orders/${o.id}/returns`).then((r) => setItems(r.items), setErr);
	}, [o.id, o.version]);
	if (err) return <ErrorSummary err={err} />;
	if (!items || items.length === 0) return null;
	const put = (nr) => {
		setItems((xs) => xs.map((x) => (x.id === nr.id ? nr : x)));
		if (onChange) onChange(nr);
	};
	return (
		<section aria-labelledby="returns-h" id="returns">
			<h3 id="returns-h">Returns</h3>
			{items.map((r) => (
				<ReturnCard key={r.id} order={o} r={r} onChange={put} />
			))}
		</section>
	);
}

// The Returns screen.
export function Returns({ search }) {
	const [f, setF] = useState({ state: search.get('state') || 'open', email: '' });
	// n: Filter pressed again with the same values reloads the page
	const [applied, setApplied] = useState({ ...f, n: 0 });
	const p = usePager(
		async (cursor) => {
			const page = await get('/api/v1/admin/returns' + query({ status: applied.state, email: applied.email, limit: 25, cursor }));
			return { items: page.items.map((r) => ({ o: { id: r.order_id, number: r.number, currency: r.currency }, r })), next_cursor: page.next_cursor };
		},
		[applied.state, applied.email, applied.n]
	);
	const [changed, setChanged] = useState({}); // returns changed on this page, by id
	const set = (k) => (e) => setF((o) => ({ ...o, [k]: e.currentTarget.value }));
	const err = p.error instanceof ApiError ? p.error : null;
	return (
		<div>
			<form class="filters" role="search" aria-label="Filter returns" onSubmit={(e) => (e.preventDefault(), setChanged({}), setApplied({ ...f, email: f.email.trim(), n: (applied.n || 0) + 1 }))}>
				<Field label="Return state" name="status" err={err} id="rf-state">
					<select value={f.state} onChange={set('state')} {...aria('status', err, false, 'rf-state')}>
						<option value="open">waiting (requested or approved)</option>
						{STATES.map((s) => (
							<option key={s} value={s}>
								{s}
							</option>
						))}
						<option value="">any</option>
					</select>
				</Field>
				<Field label="Customer email" name="email" err={err} id="rf-email">
					<input type="email" value={f.email} onInput={set('email')} maxLength={254} {...aria('email', err, false, 'rf-email')} />
				</Field>
				<div class="actions">
					<button type="submit">Filter</button>
				</div>
			</form>
			<p class="muted">Newest first, 25 a page.</p>
			<Loading p={p} />
			{!p.loading && !p.error && p.items.length === 0 && <p class="muted">No returns match these filters.</p>}
			{!p.loading &&
				p.items.map(({ o, r }) => (
					<ReturnCard key={r.id} order={o} r={changed[r.id] || r} onChange={(nr) => setChanged((c) => ({ ...c, [nr.id]: nr }))} />
				))}
			<Pager p={p} label="Returns" />
		</div>
	);
}
