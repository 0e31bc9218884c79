// reports.jsx - the reports (GET /api/v1/admin/reports/*) for a range of
// days in a time zone: sales per day, week or month against the previous
// period, orders by status and payment method, top products and
// categories, coupons, refunds and returns, customers, stock; each as a
// table (and a chart where it helps) with its CSV download. Staff see only
// the reports the API lets them read (orders, stock: no amounts).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, download, get, query } from '../api.js';
import { formatMoney, fromMinor } from '../money.js';
import { ErrorSummary, Field, Status, TableWrap, aria } from '../ui.jsx';
import { BarChart } from './chart.jsx';

// An instant's calendar date in a time zone (YYYY-MM-DD).
// ISO: a timestamp string or epoch milliseconds. en-CA writes YYYY-MM-DD.
export function localDate(iso, tz) {
	return new Intl.DateTimeFormat('en-CA', { timeZone: tz || 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
}
// The last day of a range whose end (exclusive) is TO: the day before.
export const lastDay = (to, tz) => localDate(Date.parse(to) - 1, tz);
// '2026-12-01' -> '2026-12-02'
export function nextDay(day) {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
	if (!m) return day; // the API names what is wrong with it
	const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1));
	return d.toISOString().slice(0, 10);
}
// The reports screen's address for a range (the dashboard links to it).
export const reportLink = (from, to, tz) => `/reports${query({ from: localDate(from, tz), through: lastDay(to, tz), tz })}`;

export const pct = (v) => (v === null || v === undefined ? 'no earlier figure' : `${v > 0 ? '+' : ''}${v}% on the previous period`);
const changeClass = (v) => (v === null || v === undefined || v === 0 ? 'change' : v > 0 ? 'change up' : 'change down');

const FIGURES = [
	['net', 'Net sales', true],
	['gross', 'Gross sales', true],
	['discounts', 'Discounts', true],
	['shipping', 'Shipping', true],
	['tax', 'Tax', true],
	['refunds', 'Refunds', true],
	['orders', 'Paid orders', false],
	['units', 'Units', false],
	['aov', 'Average order', true],
];

// A table of report rows: cols [{key, label, money}], a totals row.
function Rows({ label, cols, rows, currency, total }) {
	const cell = (c, row) => (c.money ? formatMoney(row[c.key], currency) : row[c.key] === null || row[c.key] === undefined ? '—' : String(row[c.key]));
	return (
		<TableWrap label={label}>
			<thead>
				<tr>
					{cols.map((c) => (
						<th scope="col" key={c.key} class={c.money || c.num ? 'num' : undefined}>
							{c.label}
						</th>
					))}
				</tr>
			</thead>
			<tbody>
				{rows.length === 0 && (
					<tr>
						<td colSpan={cols.length} class="muted">
							Nothing in this range.
						</td>
					</tr>
				)}
				{rows.map((row, i) => (
					<tr key={i}>
						{cols.map((c, j) =>
							j === 0 ? (
								<th scope="row" key={c.key}>
									{cell(c, row)}
								</th>
							) : (
								<td key={c.key} class={c.money || c.num ? 'num' : undefined}>
									{cell(c, row)}
								</td>
							)
						)}
					</tr>
				))}
			</tbody>
			{total && (
				<tfoot>
					<tr>
						{cols.map((c, j) =>
							j === 0 ? (
								<th scope="row" key={c.key}>
									Total
								</th>
							) : (
								<td key={c.key} class={c.money || c.num ? 'num' : undefined}>
									{total[c.key] === undefined ? '' : cell(c, total)}
								</td>
							)
						)}
					</tr>
				</tfoot>
			)}
		</TableWrap>
	);
}

// One report section: its heading, a CSV button, what it shows.
function Section({ id, title, csv, children, onError, onDone }) {
	const [busy, setBusy] = useState(false);
	const getCsv = async () => {
		setBusy(true);
		try {
			const name = await download(csv, `${id}.csv`);
			onDone(`${name} downloaded.`);
		} catch (x) {
			onError(x);
		} finally {
			setBusy(false);
		}
	};
	return (
		<section aria-labelledby={`${id}-h`} class="report" id={id}>
			<div class="actions">
				<h2 id={`${id}-h`}>{title}</h2>
				{csv && (
					<button type="button" onClick={getCsv} disabled={busy} aria-label={`Download ${title} as CSV`}>
						CSV
					</button>
				)}
			</div>
			{children}
		</section>
	);
}

const REPORTS_ADMIN = ['sales', 'orders', 'products', 'categories', 'coupons', 'refunds', 'customers', 'stock'];
const REPORTS_STAFF = ['orders', 'stock'];

export function Reports({ search, who }) {
	const admin = who.role === 'admin';
	const [f, setF] = useState({ from: search.get('from') || '', to: search.get('through') || '', interval: search.get('interval') || 'day', tz: search.get('tz') || '' });
	const [applied, setApplied] = useState(f);
	const [data, setData] = useState({});
	const [err, setErr] = useState(null);
	const [msg, setMsg] = useState('');
	const [loading, setLoading] = useState(true);
	// the API's to is exclusive (midnight); the form's last day is included
	const range = { from: applied.from, to: applied.to ? nextDay(applied.to) : '', tz: applied.tz };
	const path = (name, extra = {}) => {
		const p = { ...range, ...extra };
		if (name === 'stock') return `/api/v1/admin/reports/stock${query({ limit: extra.limit, format: extra.format })}`;
		return `/api/v1/admin/reports/${name}${query(p)}`;
	};
	const params = {
		sales: { interval: applied.interval },
		customers: { interval: applied.interval, limit: 10 },
		products: { limit: 10 },
		categories: { limit: 10 },
		coupons: { limit: 10 },
		stock: { limit: 20 },
	};
	useEffect(() => {
		let live = true;
		setLoading(true);
		setErr(null);
		const names = admin ? REPORTS_ADMIN : REPORTS_STAFF;
		const one = (n) => get(path(n, params[n] || {})).then((d) => [n, d]);
		// the first report checks the range; the rest only once it passed
		// (a bad range is one error, not eight)
		one(names[0])
			.then((first) => Promise.all(names.slice(1).map(one)).then((rest) => [first, ...rest]))
			.then((pairs) => {
				if (!live) return;
				const d = Object.fromEntries(pairs);
				setData(d);
				// an empty form takes the range the API chose (its defaults)
				const any = d.sales || d.orders;
				if (any && !applied.from && !applied.to) setF((o) => ({ ...o, from: localDate(any.from, any.tz), to: lastDay(any.to, any.tz), tz: o.tz || any.tz }));
			})
			.catch((x) => live && (setErr(x), setData({})))
			.finally(() => live && setLoading(false));
		return () => {
			live = false;
		};
	}, [applied.from, applied.to, applied.interval, applied.tz, admin]);
	const set = (k) => (e) => setF((o) => ({ ...o, [k]: e.currentTarget.value }));
	const fieldErr = err instanceof ApiError ? err : null;
	const csv = (n) => path(n, { ...(params[n] || {}), format: 'csv' });
	const sec = { onError: setErr, onDone: setMsg };
	const { sales, orders, products, categories, coupons, refunds, customers, stock } = data;
	const cur = (sales && sales.currency) || (products && products.currency) || '';
	const minor = (v) => fromMinor(v).replace(/\.00$/, '');
	return (
		<div>
			<form class="filters report-form" aria-label="Report range" onSubmit={(e) => (e.preventDefault(), setMsg(''), setApplied({ ...f, tz: f.tz.trim() }))}>
				<Field label="From" name="from" err={fieldErr} id="rp-from">
					<input type="date" value={f.from} onInput={set('from')} {...aria('from', fieldErr, false, 'rp-from')} />
				</Field>
				<Field label="Through (included)" name="to" err={fieldErr} id="rp-to">
					<input type="date" value={f.to} onInput={set('to')} {...aria('to', fieldErr, false, 'rp-to')} />
				</Field>
				{admin && (
					<Field label="Interval" name="interval" err={fieldErr} id="rp-interval">
						<select value={f.interval} onChange={set('interval')} {...aria('interval', fieldErr, false, 'rp-interval')}>
							<option value="day">day</option>
							<option value="week">week (from Monday)</option>
							<option value="month">month</option>
						</select>
					</Field>
				)}
				<Field label="Time zone" name="tz" err={fieldErr} id="rp-tz" hint="IANA name, e.g. Asia/Dhaka; blank: the shop's.">
					<input value={f.tz} onInput={set('tz')} maxLength={64} list="rp-zones" {...aria('tz', fieldErr, true, 'rp-tz')} />
				</Field>
				<datalist id="rp-zones">
					{['Asia/Dhaka', 'UTC', 'Asia/Kolkata', 'Europe/London', 'Europe/Berlin', 'America/New_York'].map((z) => (
						<option key={z} value={z} />
					))}
				</datalist>
				<div class="actions">
					<button type="submit" class="primary">
						Show
					</button>
				</div>
			</form>
			<ErrorSummary err={err} />
			<Status text={msg} />
			{loading && <p class="muted">Loading…</p>}
			{!loading && !err && (sales || orders) && (
				<p class="meta" id="rp-range">
					{localDate((sales || orders).from, (sales || orders).tz)} to {lastDay((sales || orders).to, (sales || orders).tz)} in {(sales || orders).tz}
					{sales && `, per ${sales.interval}`}
				</p>
			)}
			{sales && (
				<Section id="sales" title="Sales" csv={csv('sales')} {...sec}>
					<ul class="cards" aria-label="Sales totals">
						{FIGURES.map(([k, label, money]) => (
							<li class="card" key={k} id={`total-${k}`}>
								<span class="figure">{money ? formatMoney(sales.totals[k], cur) : sales.totals[k]}</span> {label}
								<span class={`figure-sub ${changeClass(sales.change_pct[k])}`}>{pct(sales.change_pct[k])}</span>
							</li>
						))}
					</ul>
					<div class="charts">
						<BarChart title={`Net sales per ${sales.interval} (${cur})`} labels={sales.buckets.map((b) => b.label)} values={sales.buckets.map((b) => b.net)} unit={cur} fmt={minor} />
						<BarChart title={`Paid orders per ${sales.interval}`} labels={sales.buckets.map((b) => b.label)} values={sales.buckets.map((b) => b.orders)} unit="orders" />
					</div>
					<Rows
						label={`Sales per ${sales.interval}`}
						currency={cur}
						rows={sales.buckets}
						total={sales.totals}
						cols={[{ key: 'label', label: sales.interval === 'day' ? 'Day' : sales.interval === 'week' ? 'Week of' : 'Month of' }, ...FIGURES.map(([k, label, money]) => ({ key: k, label, money, num: !money }))]}
					/>
					<p class="muted">
						Previous period ({localDate(sales.previous.from, sales.tz)} to {lastDay(sales.previous.to, sales.tz)}): net {formatMoney(sales.previous.totals.net, cur)}, {sales.previous.totals.orders} paid orders.
					</p>
				</Section>
			)}
			{orders && (
				<Section id="orders-report" title="Orders by status" csv={csv('orders')} {...sec}>
					<p>{orders.orders} orders placed in the range.</p>
					<div class="charts">
						<BarChart title="Orders by status" labels={orders.by_status.map((x) => x.key.replace('payment_review', 'review'))} values={orders.by_status.map((x) => x.orders)} unit="orders" />
						<BarChart title="Orders by payment method" labels={orders.by_payment_method.map((x) => (x.key === 'cod' ? 'cash on delivery' : x.key))} values={orders.by_payment_method.map((x) => x.orders)} unit="orders" />
					</div>
				</Section>
			)}
			{products && (
				<Section id="products-report" title="Top products" csv={csv('products')} {...sec}>
					<Rows
						label="Top products"
						currency={cur}
						rows={products.items}
						cols={[{ key: 'title', label: 'Product' }, { key: 'units', label: 'Units', num: true }, { key: 'orders', label: 'Orders', num: true }, { key: 'gross', label: 'Gross', money: true }, { key: 'discounts', label: 'Discounts', money: true }, { key: 'revenue', label: 'Revenue', money: true }]}
					/>
				</Section>
			)}
			{categories && (
				<Section id="categories-report" title="Top categories" csv={csv('categories')} {...sec}>
					<Rows
						label="Top categories"
						currency={cur}
						rows={categories.items.map((c) => ({ ...c, name: c.name || '(none)' }))}
						cols={[{ key: 'name', label: 'Category' }, { key: 'units', label: 'Units', num: true }, { key: 'orders', label: 'Orders', num: true }, { key: 'revenue', label: 'Revenue', money: true }]}
					/>
				</Section>
			)}
			{coupons && (
				<Section id="coupons-report" title="Coupons" csv={csv('coupons')} {...sec}>
					<Rows label="Coupon use" currency={cur} rows={coupons.items} total={{ orders: coupons.orders, discount: coupons.discount }} cols={[{ key: 'code', label: 'Code' }, { key: 'orders', label: 'Paid orders', num: true }, { key: 'discount', label: 'Discount given', money: true }]} />
				</Section>
			)}
			{refunds && (
				<Section id="refunds-report" title="Refunds and returns" csv={csv('refunds')} {...sec}>
					<div class="two">
						<Rows label="Refunds by status" currency={cur} rows={refunds.refunds.by_status} total={{ count: refunds.refunds.count, amount: refunds.refunds.amount }} cols={[{ key: 'key', label: 'Refunds' }, { key: 'count', label: 'Count', num: true }, { key: 'amount', label: 'Amount', money: true }]} />
						<Rows label="Returns by state" currency={cur} rows={refunds.returns.by_status} total={{ count: refunds.returns.count, amount: refunds.returns.refund_amount }} cols={[{ key: 'key', label: 'Returns' }, { key: 'count', label: 'Count', num: true }, { key: 'amount', label: 'Refund', money: true }]} />
					</div>
				</Section>
			)}
			{customers && (
				<Section id="customers-report" title="Customers" csv={csv('customers')} {...sec}>
					<ul class="cards" aria-label="Customer figures">
						<li class="card">
							<span class="figure">{customers.signups_total}</span> sign-ups
						</li>
						<li class="card">
							<span class="figure">{customers.buyers}</span> buyers
						</li>
						<li class="card">
							<span class="figure">{customers.new_buyers}</span> new buyers
						</li>
						<li class="card">
							<span class="figure">{customers.returning_buyers}</span> returning buyers
						</li>
						<li class="card">
							<span class="figure">{customers.repeat_rate_pct === null ? '—' : `${customers.repeat_rate_pct}%`}</span> repeat purchase rate
						</li>
					</ul>
					<BarChart title={`Sign-ups per ${customers.interval}`} labels={customers.signups.map((b) => b.label)} values={customers.signups.map((b) => b.signups)} unit="sign-ups" />
					<Rows label="Top customers" currency={cur} rows={customers.top_customers} cols={[{ key: 'email', label: 'Customer' }, { key: 'name', label: 'Name' }, { key: 'orders', label: 'Paid orders', num: true }, { key: 'spent', label: 'Spent', money: true }]} />
				</Section>
			)}
			{stock && (
				<Section id="stock-report" title="Stock" csv={csv('stock')} {...sec}>
					<p>
						{stock.out_of_stock} variants out of stock, {stock.low_stock} low (stock now, whatever the range).
					</p>
					<Rows
						label="Out-of-stock and low-stock variants"
						rows={stock.items.map((v) => ({ ...v, options: Object.values(v.options || {}).join(' / ') }))}
						cols={[{ key: 'sku', label: 'SKU' }, { key: 'title', label: 'Product' }, { key: 'options', label: 'Options' }, { key: 'state', label: 'State' }, { key: 'stock', label: 'Stock', num: true }, { key: 'low_stock_threshold', label: 'Threshold', num: true }]}
					/>
				</Section>
			)}
		</div>
	);
}
