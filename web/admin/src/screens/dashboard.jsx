// dashboard.jsx - what the existing API can tell at a glance: orders to
// confirm and ship, payment reviews, orders by status, products by state,
// low-stock variants, coupons, and (admin) dead jobs, counted by paging
// the lists. The reports API (sales figures, GET /api/v1/admin/dashboard)
// does not exist yet; when it does it replaces these counts.
import { useEffect, useState } from 'preact/hooks';
import { get, query } from '../api.js';
import { Link } from '../router.jsx';
import { ErrorSummary, TableWrap } from '../ui.jsx';
import { BarChart } from './chart.jsx';

const MAX_PAGES = 10; // at most 1000 rows counted per figure; more shows as "1000+"

// countAll(path, params, per): pages through a list, summing per(item).
async function countAll(path, params, per = () => 1) {
	let n = 0, cursor = null, pages = 0;
	do {
		const r = await get(path + query({ ...params, limit: 100, cursor }));
		for (const it of r.items) n += per(it);
		cursor = r.next_cursor;
		pages++;
	} while (cursor && pages < MAX_PAGES);
	return { n, more: Boolean(cursor) };
}

const ORDER_STATES = ['pending', 'payment_review', 'processing', 'shipped', 'delivered', 'returned', 'cancelled'];

const show = (c) => (!c ? '…' : c.error ? '—' : `${c.n}${c.more ? '+' : ''}`);

export function Dashboard({ who }) {
	const [s, setS] = useState({});
	const [err, setErr] = useState(null);
	const [low, setLow] = useState([]);
	useEffect(() => {
		let live = true;
		const put = (k) => (v) => live && setS((o) => ({ ...o, [k]: v }));
		const failed = (e) => live && setErr(e);
		// a figure that cannot be had shows a dash, not a spinner for ever
		const count = (path, params, per) => countAll(path, params, per).catch((e) => (failed(e), { error: true, n: 0 }));
		const fail = failed;
		for (const st of ['active', 'draft', 'archived']) count('/api/v1/admin/products', { status: st, deleted: 'false' }).then(put(st), fail);
		count('/api/v1/admin/products', { deleted: 'true' }).then(put('deleted'), fail);
		count('/api/v1/admin/inventory/low-stock', {}, (p) => p.variants.length).then(put('low'), fail);
		count('/api/v1/admin/coupons', {}, (c) => (c.active ? 1 : 0)).then(put('coupons'), fail);
		if (who.role === 'admin') count('/api/v1/admin/jobs', { status: 'dead' }).then(put('dead'), fail);
		for (const st of ORDER_STATES) count('/api/v1/admin/orders', { status: st }).then(put(`o_${st}`), fail);
		// the ten lowest of the newest low-stock products, one row per variant
		get('/api/v1/admin/inventory/low-stock?limit=20')
			.then((r) => live && setLow(r.items.flatMap((p) => p.variants.map((v) => ({ ...v, product_id: p.product_id, title: p.title }))).sort((a, b) => a.stock - b.stock).slice(0, 10)), fail);
		return () => {
			live = false;
		};
	}, [who.role]);
	const states = ['active', 'draft', 'archived', 'deleted'];
	const ready = states.every((k) => s[k] && !s[k].error);
	const ordersReady = ORDER_STATES.every((k) => s[`o_${k}`] && !s[`o_${k}`].error);
	return (
		<div>
			<ErrorSummary err={err} />
			<ul class="cards" aria-label="Figures">
				<li class="card">
					<span class="figure">{show(s.o_pending)}</span> <Link href="/orders?status=pending">orders to confirm</Link>
				</li>
				<li class="card">
					<span class="figure">{show(s.o_processing)}</span> <Link href="/orders?status=processing">orders to ship</Link>
				</li>
				<li class="card">
					<span class="figure">{show(s.o_payment_review)}</span> <Link href="/orders?status=payment_review">payment reviews</Link>
				</li>
				<li class="card">
					<span class="figure">{show(s.active)}</span> active products
				</li>
				<li class="card">
					<span class="figure">{show(s.low)}</span> <Link href="/inventory">low-stock variants</Link>
				</li>
				<li class="card">
					<span class="figure">{show(s.coupons)}</span> <Link href="/coupons">active coupons</Link>
				</li>
				{who.role === 'admin' && (
					<li class="card">
						<span class="figure">{show(s.dead)}</span> <Link href="/jobs">dead jobs</Link>
					</li>
				)}
			</ul>
			<div class="charts">
			{ordersReady && <BarChart title="Orders by status" labels={ORDER_STATES.map((k) => (k === 'payment_review' ? 'review' : k))} values={ORDER_STATES.map((k) => s[`o_${k}`].n)} unit="orders" />}
			{ready && <BarChart title="Products by state" labels={states} values={states.map((k) => s[k].n)} unit="products" />}
			</div>
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
