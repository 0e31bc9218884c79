// dashboard.jsx - the home screen, from GET /api/v1/admin/dashboard (its
// figures by role: admins get sales today / 7 / 30 days against the
// previous period and the last order events; staff the work waiting
// only), with two charts: net sales per day over the last 30 days (the
// sales report, admin) and orders by status over the same days (the
// orders report, which staff may read too), and the lowest stock.
import { useEffect, useState } from 'preact/hooks';
import { get, query } from '../api.js';
import { formatMoney, fromMinor } from '../money.js';
import { Link } from '../router.jsx';
import { ErrorSummary, TableWrap, fmtDate } from '../ui.jsx';
import { BarChart } from './chart.jsx';
import { pct, reportLink } from './reports.jsx';

const SALES = [
	['today', 'Net sales today'],
	['7d', 'Net sales, 7 days'],
	['30d', 'Net sales, 30 days'],
];
const human = (s) => (s || '').replace(/_/g, ' ');

export function Dashboard({ who }) {
	const [d, setD] = useState(null);
	const [err, setErr] = useState(null);
	const [sales, setSales] = useState(null);
	const [orders, setOrders] = useState(null);
	const [low, setLow] = useState([]);
	const admin = who.role === 'admin';
	useEffect(() => {
		let live = true;
		const fail = (e) => live && setErr(e);
		get('/api/v1/admin/dashboard')
			.then((x) => {
				if (!live) return;
				setD(x);
				// the charts cover the dashboard's own 30 days (admin) or the
				// reports' default 30 days in the shop's time zone (staff)
				const range = x.sales ? { from: x.sales['30d'].from, to: x.sales['30d'].to, tz: x.tz } : {};
				if (x.role === 'admin') get('/api/v1/admin/reports/sales' + query({ ...range, interval: 'day' })).then((s) => live && setSales(s), fail);
				get('/api/v1/admin/reports/orders' + query(range)).then((o) => live && setOrders(o), fail);
			})
			// a dashboard the API refuses shows dashes, not "…" for ever
			.catch((e) => (fail(e), live && setD({})));
		// the ten lowest of the newest low-stock products, one row per variant
		get('/api/v1/admin/inventory/low-stock?limit=20')
			.then((r) => live && setLow(r.items.flatMap((p) => p.variants.map((v) => ({ ...v, product_id: p.product_id, title: p.title }))).sort((a, b) => a.stock - b.stock).slice(0, 10)), fail);
		return () => {
			live = false;
		};
	}, [who.role]);
	const n = (k) => (!d ? '…' : d[k] === undefined ? '—' : String(d[k]));
	const work = [
		['orders_to_confirm', 'orders to confirm', '/orders?status=pending'],
		['orders_to_ship', 'orders to ship', '/orders?status=processing'],
		...(admin ? [['payment_reviews', 'payment reviews', '/orders?status=payment_review']] : []),
		['returns_waiting', 'returns waiting', '/returns'],
		['low_stock', 'low-stock variants', '/inventory'],
		...(admin ? [['dead_jobs', 'dead jobs', '/jobs']] : []),
	];
	return (
		<div>
			<ErrorSummary err={err} />
			{admin && (
				<ul class="cards" aria-label="Sales">
					{SALES.map(([k, label]) => {
						const s = d && d.sales && d.sales[k];
						return (
							<li class="card sales" id={`sales-${k}`} key={k}>
								<span class="figure">{s ? formatMoney(s.net, d.currency) : d ? '—' : '…'}</span> {label}
								{s && (
									<span class="figure-sub">
										{s.orders} paid orders · {pct(s.change_pct)} · <Link href={reportLink(s.from, s.to, d.tz)} aria-label={`${label}: the sales report`}>report</Link>
									</span>
								)}
							</li>
						);
					})}
				</ul>
			)}
			<ul class="cards" aria-label="Work waiting">
				{work.map(([k, label, href]) => (
					<li class="card" key={k} id={`work-${k}`}>
						<span class="figure">{n(k)}</span> <Link href={href}>{label}</Link>
					</li>
				))}
			</ul>
			<div class="charts">
				{sales && <BarChart title={`Net sales per day, last 30 days (${sales.currency})`} labels={sales.buckets.map((b) => b.label.slice(5))} values={sales.buckets.map((b) => b.net)} unit={sales.currency} fmt={(v) => fromMinor(v).replace(/\.00$/, '')} />}
				{orders && <BarChart title="Orders by status, last 30 days" labels={orders.by_status.map((x) => (x.key === 'payment_review' ? 'review' : x.key))} values={orders.by_status.map((x) => x.orders)} unit="orders" />}
			</div>
			{admin && d && d.events && (
				<section aria-labelledby="events-h">
					<h2 id="events-h">Latest order events</h2>
					{d.events.length === 0 ? (
						<p class="muted">No orders yet.</p>
					) : (
						<ol class="timeline">
							{d.events.map((ev, i) => (
								<li key={i}>
									<time dateTime={ev.at}>{fmtDate(ev.at)}</time> <Link href={`/orders/${ev.order_id}`}>{ev.number}</Link> {ev.from ? `${human(ev.from)} → ` : ''}
									<strong>{human(ev.to)}</strong>
								</li>
							))}
						</ol>
					)}
				</section>
			)}
			<h2>Lowest stock</h2>
			{low.length === 0 ? (
				<p class="muted">No variant is below its threshold.</p>
			) : (
				<TableWrap label="Lowest stock">
					<thead>
						<tr>
							<th scope="col">Product</th>
							<th scope="col">SKU</th>
							<th scope="col">Stock</th>
							<th scope="col">Threshold</th>
						</tr>
					</thead>
					<tbody>
						{low.map((v) => (
							<tr key={v.sku}>
								<td>
									<Link href={`/products/${v.product_id}`}>{v.title}</Link>
								</td>
								<td>{v.sku}</td>
								<td>{v.stock}</td>
								<td>{v.low_stock_threshold}</td>
							</tr>
						))}
					</tbody>
				</TableWrap>
			)}
		</div>
	);
}
