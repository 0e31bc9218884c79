// payments.jsx - the payment log (admin): every gateway call and callback,
// insert-only and with secrets masked by the API; filter by order; pages.
// Also the order screen's payment section: record the cash of a
// cash-on-delivery order (staff), refund a card payment (admin).
import { useState } from 'preact/hooks';
import { ApiError, get, query, request } from '../api.js';
import { formatMoney, toMinor } from '../money.js';
import { Link } from '../router.jsx';
import { ErrorSummary, Field, Loading, Pager, Status, TableWrap, aria, fmtDate, usePager } from '../ui.jsx';

export function PaymentLog({ search }) {
	const [order, setOrder] = useState(search.get('order_id') || '');
	const [applied, setApplied] = useState(order);
	const p = usePager((cursor) => get('/api/v1/admin/payments/logs' + query({ order_id: applied, limit: 25, cursor })), [applied]);
	const err = p.error instanceof ApiError ? p.error : null;
	return (
		<div>
			<form class="filters" role="search" aria-label="Filter the payment log" onSubmit={(e) => (e.preventDefault(), setApplied(order.trim()))}>
				<Field label="Order id" name="order_id" err={err}>
					<input value={order} onInput={(e) => setOrder(e.currentTarget.value)} maxLength={24} {...aria('order_id', err)} />
				</Field>
				<div class="actions">
					<button type="submit">Filter</button>
				</div>
			</form>
			<Loading p={p} />
			{!p.loading && !p.error && p.items.length === 0 && <p class="muted">No entries.</p>}
			{p.items.length > 0 && (
				<TableWrap label="Payment log">
					<thead>
						<tr>
							<th scope="col">When</th>
							<th scope="col">Order</th>
							<th scope="col">Direction</th>
							<th scope="col">Kind</th>
							<th scope="col">HTTP</th>
							<th scope="col">Time</th>
							<th scope="col">Details</th>
						</tr>
					</thead>
					<tbody>
						{p.items.map((l) => (
							<tr key={l.id}>
								<td>{fmtDate(l.at)}</td>
								<td>{l.order_id ? <Link href={`/orders/${l.order_id}`}>{l.order_id.slice(-8)}</Link> : '—'}</td>
								<td>{l.direction === 'out' ? 'to the gateway' : 'from the gateway'}</td>
								<td>
									{l.kind} <span class="muted">{l.method}</span>
								</td>
								<td>
									<span class={`badge ${l.http_status >= 400 || l.error ? 'warn' : ''}`}>{l.http_status}</span>
								</td>
								<td>{l.duration_ms} ms</td>
								<td class="wrap">
									<details>
										<summary>{l.error ? `Error: ${l.error}` : l.tran_id || 'fields'}</summary>
										<p class="muted">{l.url}</p>
										<pre>{JSON.stringify(l.fields, null, 1)}</pre>
										{l.response && <pre>{l.response.slice(0, 2000)}</pre>}
									</details>
								</td>
							</tr>
						))}
					</tbody>
				</TableWrap>
			)}
			<Pager p={p} label="Payment log" />
		</div>
	);
}

const COD_COLLECTABLE = ['processing', 'shipped', 'delivered'];

// The payment part of the order screen. onChange(order) after a change.
export function OrderPayment({ o, who, reload }) {
	const [err, setErr] = useState(null);
	const [msg, setMsg] = useState('');
	const [refundKey, setRefundKey] = useState(null); // one key per refund form: a resubmit is the same refund
	const collect = async () => {
		setErr(null);
		try {
			await request('POST', `/api/v1/admin/orders/${o.id}/payments`, { json: { method: 'cod', amount: o.total } });
			setMsg(`Cash of ${formatMoney(o.total, o.currency)} recorded.`);
			await reload();
		} catch (x) {
			setErr(x);
		}
	};
	const refund = async (e) => {
		e.preventDefault();
		const f = new FormData(e.currentTarget);
		const amount = toMinor(String(f.get('amount') || ''));
		setErr(null);
		if (amount === null || amount < 1) {
			setErr(new ApiError(400, { title: 'Check the form', errors: [{ field: 'amount', message: 'an amount like 100.00' }] }));
			return;
		}
		try {
			const r = await request('POST', `/api/v1/admin/orders/${o.id}/refunds`, { json: { amount, reason: String(f.get('reason') || '') }, headers: { 'Idempotency-Key': refundKey } });
			setMsg(`Refund of ${formatMoney(r.data.amount, r.data.currency)} ${r.data.status}.`);
			setRefundKey(null);
			await reload();
		} catch (x) {
			setErr(x);
		}
	};
	const canCollect = o.payment_method === 'cod' && o.payment_status === 'unpaid' && COD_COLLECTABLE.includes(o.status);
	const canRefund = who.role === 'admin' && o.payment_method === 'sslcommerz' && (o.payment_status === 'paid' || o.payment_status === 'refund_requested');
	return (
		<section aria-labelledby="payment-h">
			<h3 id="payment-h">Payment</h3>
			<p>
				{o.payment_method === 'cod' ? 'Cash on delivery' : 'SSLCOMMERZ'}: <span class={`badge ${o.payment_status === 'paid' ? 'active' : 'warn'}`}>{o.payment_status.replace(/_/g, ' ')}</span>
				{who.role === 'admin' && (
					<>
						{' '}
						<Link href={`/payments?order_id=${o.id}`}>Payment log of this order</Link>
					</>
				)}
			</p>
			<Status text={msg} />
			<ErrorSummary err={err} />
			{canCollect && (
				<button type="button" class="primary" onClick={collect}>
					Record cash collected ({formatMoney(o.total, o.currency)})
				</button>
			)}
			{canRefund && !refundKey && (
				<button type="button" onClick={() => setRefundKey(crypto.randomUUID())}>
					Refund…
				</button>
			)}
			{canRefund && refundKey && (
				<form class="grid transition" onSubmit={refund} noValidate aria-label="Refund">
					<Field label={`Amount (${o.currency})`} name="amount" err={err}>
						<input inputmode="decimal" required {...aria('amount', err)} />
					</Field>
					<Field label="Reason" name="reason" err={err}>
						<input maxLength={255} required {...aria('reason', err)} />
					</Field>
					<div class="actions">
						<button type="submit" class="danger">
							Refund
						</button>
						<button type="button" onClick={() => setRefundKey(null)}>
							Back
						</button>
					</div>
				</form>
			)}
		</section>
	);
}
