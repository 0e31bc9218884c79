// orders.jsx - orders for staff: the list (status, payment method, number,
// email filters; pages), and one order with its lines, addresses, totals,
// payment state, timeline, and a button per transition staff may take.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, query, request } from '../api.js';
import { formatMoney } from '../money.js';
import { Link } from '../router.jsx';
import { ErrorSummary, Field, Loading, Pager, Status, TableWrap, aria, fmtDate, usePager } from '../ui.jsx';
import { OrderPayment } from './payments.jsx';
import { OrderReturns } from './returns.jsx';

const STATUSES = ['pending', 'payment_review', 'processing', 'shipped', 'delivered', 'returned', 'cancelled'];

// The edges staff may take, as src/orders/state.c lists them (the API
// refuses any other with a 409; the order does not say which are open).
const STAFF_EDGES = {
	pending: ['processing', 'cancelled'],
	payment_review: ['processing', 'cancelled'],
	processing: ['shipped', 'cancelled'],
	shipped: ['delivered'],
};
const LABEL = { processing: 'Confirm (processing)', shipped: 'Mark shipped', delivered: 'Mark delivered', cancelled: 'Cancel order' };
const human = (s) => (s || '').replace(/_/g, ' ');

export function OrderList({ search }) {
	const [f, setF] = useState({ status: search.get('status') || '', payment_method: '', number: '', email: '', from: '', to: '' });
	const [applied, setApplied] = useState(f);
	// the date inputs are UTC days; the API wants RFC 3339 instants
	const day = (d, end) => (d ? `${d}T${end ? '23:59:59' : '00:00:00'}Z` : '');
	const p = usePager(
		(cursor) => get('/api/v1/admin/orders' + query({ ...applied, from: day(applied.from), to: day(applied.to, true), limit: 25, cursor })),
		[applied.status, applied.payment_method, applied.number, applied.email, applied.from, applied.to]
	);
	const set = (k) => (e) => setF((o) => ({ ...o, [k]: e.currentTarget.value }));
	const err = p.error instanceof ApiError ? p.error : null;
	return (
		<div>
			<form class="filters" role="search" aria-label="Filter orders" onSubmit={(e) => (e.preventDefault(), setApplied({ ...f, number: f.number.trim(), email: f.email.trim() }))}>
				<Field label="Status" name="status" err={err}>
					<select value={f.status} onChange={set('status')} {...aria('status', err)}>
						<option value="">any</option>
						{STATUSES.map((s) => (
							<option key={s} value={s}>
								{human(s)}
							</option>
						))}
					</select>
				</Field>
				<Field label="Payment" name="payment_method" err={err}>
					<select value={f.payment_method} onChange={set('payment_method')} {...aria('payment_method', err)}>
						<option value="">any</option>
						<option value="cod">cash on delivery</option>
						<option value="sslcommerz">SSLCOMMERZ</option>
					</select>
				</Field>
				<Field label="Order number" name="number" err={err}>
					<input value={f.number} onInput={set('number')} placeholder="EM-2026-000001" maxLength={40} {...aria('number', err)} />
				</Field>
				<Field label="Customer email" name="email" err={err}>
					<input type="email" value={f.email} onInput={set('email')} maxLength={254} {...aria('email', err)} />
				</Field>
				<Field label="Placed from (UTC)" name="from" err={err}>
					<input type="date" value={f.from} onInput={set('from')} {...aria('from', err)} />
				</Field>
				<Field label="Placed until (UTC)" name="to" err={err}>
					<input type="date" value={f.to} onInput={set('to')} {...aria('to', err)} />
				</Field>
				<div class="actions">
					<button type="submit">Filter</button>
				</div>
			</form>
			<Loading p={p} />
			{!p.loading && !p.error && p.items.length === 0 && <p class="muted">No orders match.</p>}
			{p.items.length > 0 && (
				<TableWrap label="Orders">
					<thead>
						<tr>
							<th scope="col">Order</th>
							<th scope="col">Placed</th>
							<th scope="col">Customer</th>
							<th scope="col">Status</th>
							<th scope="col">Payment</th>
							<th scope="col">Total</th>
						</tr>
					</thead>
					<tbody>
						{p.items.map((o) => (
							<tr key={o.id}>
								<td>
									<Link href={`/orders/${o.id}`}>{o.number}</Link>
								</td>
								<td>{fmtDate(o.created_at)}</td>
								<td>{o.email || o.name || ''}</td>
								<td>
									<span class={`badge st-${o.status}`}>{human(o.status)}</span>
								</td>
								<td>
									{o.payment_method === 'cod' ? 'COD' : 'SSLCOMMERZ'}, {human(o.payment_status)}
								</td>
								<td>{formatMoney(o.total, o.currency)}</td>
							</tr>
						))}
					</tbody>
				</TableWrap>
			)}
			<Pager p={p} label="Orders" />
		</div>
	);
}

function Address({ a }) {
	if (!a) return <p class="muted">none</p>;
	return (
		<address>
			{[a.name, a.line1, a.line2, [a.postal_code, a.city].filter(Boolean).join(' '), a.region, a.country, a.phone].filter(Boolean).map((l, i) => (
				<span key={i}>
					{l}
					<br />
				</span>
			))}
		</address>
	);
}

export function OrderDetail({ params, who }) {
	const [o, setO] = useState(null);
	const [err, setErr] = useState(null);
	const [loadErr, setLoadErr] = useState(null);
	const [msg, setMsg] = useState('');
	const [to, setTo] = useState(null); // the transition being filled in
	const [busy, setBusy] = useState(false);
	const load = () =>
		get(`/api/v1/admin/orders/${encodeURIComponent(params.id)}`)
			.then(setO)
			.catch(setLoadErr);
	useEffect(() => {
		load();
	}, [params.id]);

	const submit = async (e) => {
		e.preventDefault();
		const f = new FormData(e.currentTarget);
		const body = { to };
		for (const k of ['note', 'carrier', 'tracking_number']) {
			const v = f.get(k);
			if (v !== null && String(v).trim() !== '') body[k] = String(v).trim();
		}
		setBusy(true);
		setErr(null);
		try {
			const r = await request('POST', `/api/v1/admin/orders/${o.id}/transitions`, { json: body });
			setO(r.data);
			setTo(null);
			setMsg(`Order ${r.data.number} is now ${human(r.data.status)}.`);
		} catch (x) {
			setErr(x);
			if (x instanceof ApiError && x.status === 409) load();
		} finally {
			setBusy(false);
		}
	};

	if (loadErr) return <ErrorSummary err={loadErr} />;
	if (!o) return <p class="muted">Loading…</p>;
	const edges = STAFF_EDGES[o.status] || [];
	return (
		<div>
			<p>
				<Link href="/orders">← All orders</Link>
			</p>
			<h2>
				{o.number} <span class={`badge st-${o.status}`}>{human(o.status)}</span>
			</h2>
			<p class="meta">
				Placed {fmtDate(o.created_at)} by {o.email || o.name || 'a customer'}; {o.payment_method === 'cod' ? 'cash on delivery' : 'SSLCOMMERZ'}, payment {human(o.payment_status)}
				{o.carrier && `; ${o.carrier} ${o.tracking_number || ''}`}
			</p>
			<Status text={msg} />
			<section aria-labelledby="actions-h">
				<h3 id="actions-h">Next steps</h3>
				{edges.length === 0 ? (
					<p class="muted">No further step for staff from {human(o.status)}.</p>
				) : (
					<div class="actions">
						{edges.map((t) => (
							<button key={t} type="button" class={t === 'cancelled' ? 'danger' : 'primary'} aria-pressed={to === t ? 'true' : 'false'} onClick={() => (setTo(t), setErr(null))}>
								{LABEL[t] || human(t)}
							</button>
						))}
					</div>
				)}
				{to && (
					<form class="grid transition" onSubmit={submit} noValidate aria-label={`${LABEL[to] || human(to)}: details`}>
						<ErrorSummary err={err} />
						{to === 'shipped' && (
							<Field label="Carrier" name="carrier" err={err}>
								<input maxLength={64} required {...aria('carrier', err)} />
							</Field>
						)}
						{to === 'shipped' && (
							<Field label="Tracking number" name="tracking_number" err={err}>
								<input maxLength={64} required {...aria('tracking_number', err)} />
							</Field>
						)}
						<Field label="Note (optional, shown in the timeline)" name="note" err={err}>
							<input maxLength={500} {...aria('note', err)} />
						</Field>
						<div class="actions">
							<button type="submit" class={to === 'cancelled' ? 'danger' : 'primary'} disabled={busy}>
								{to === 'cancelled' ? 'Cancel the order' : `Move to ${human(to)}`}
							</button>
							<button type="button" onClick={() => (setTo(null), setErr(null))}>
								Back
							</button>
						</div>
					</form>
				)}
			</section>
			<OrderPayment o={o} who={who} reload={load} />
			<OrderReturns o={o} onChange={load} />
			<h3>Lines</h3>
			<TableWrap label="Order lines">
				<thead>
					<tr>
						<th scope="col">Item</th>
						<th scope="col">SKU</th>
						<th scope="col">Qty</th>
						<th scope="col">Unit price</th>
						<th scope="col">Discount</th>
						<th scope="col">Line total</th>
					</tr>
				</thead>
				<tbody>
					{o.lines.map((l) => (
						<tr key={l.sku}>
							<td>
								<Link href={`/products/${l.product_id}`}>{l.title}</Link>
								{l.options && <span class="muted"> {Object.values(l.options).join(' / ')}</span>}
							</td>
							<td>{l.sku}</td>
							<td>
								{l.quantity}
								{l.returned_quantity ? ` (${l.returned_quantity} returned)` : ''}
							</td>
							<td>{formatMoney(l.unit_price, o.currency)}</td>
							<td>{formatMoney(l.discount, o.currency)}</td>
							<td>{formatMoney(l.line_total, o.currency)}</td>
						</tr>
					))}
				</tbody>
			</TableWrap>
			<dl class="totals">
				<dt>Subtotal</dt>
				<dd>{formatMoney(o.subtotal, o.currency)}</dd>
				<dt>Discount{o.coupon ? ` (${o.coupon.code})` : ''}</dt>
				<dd>{formatMoney(o.discount, o.currency)}</dd>
				<dt>Shipping{o.shipping_method ? ` (${o.shipping_method})` : ''}</dt>
				<dd>{formatMoney(o.shipping, o.currency)}</dd>
				<dt>Tax{o.prices_include_tax ? ' (included)' : ''}</dt>
				<dd>{formatMoney(o.tax, o.currency)}</dd>
				<dt>Total</dt>
				<dd>
					<strong>{formatMoney(o.total, o.currency)}</strong>
				</dd>
			</dl>
			<div class="two">
				<section aria-labelledby="ship-h">
					<h3 id="ship-h">Shipping address</h3>
					<Address a={o.shipping_address} />
				</section>
				<section aria-labelledby="bill-h">
					<h3 id="bill-h">Billing address</h3>
					<Address a={o.billing_address} />
				</section>
			</div>
			{o.note && (
				<p>
					<strong>Customer note:</strong> {o.note}
				</p>
			)}
			<section aria-labelledby="timeline-h">
				<h3 id="timeline-h">Timeline</h3>
				<ol class="timeline">
					{o.events.map((ev, i) => (
						<li key={i}>
							<time dateTime={ev.at}>{fmtDate(ev.at)}</time> {ev.from ? `${human(ev.from)} → ` : ''}
							<strong>{human(ev.to)}</strong>
							{ev.by && <span class="muted"> by {ev.by.role}</span>}
							{ev.carrier && ` · ${ev.carrier} ${ev.tracking_number || ''}`}
							{ev.note && <span class="note"> · {ev.note}</span>}
						</li>
					))}
				</ol>
			</section>
		</div>
	);
}
