// inventory.jsx - adjust a variant's stock with a reason; the low-stock
// list (every page), each row able to prefill the adjustment.
import { useRef, useState } from 'preact/hooks';
import { get, query, request } from '../api.js';
import { Link } from '../router.jsx';
import { ApiError } from '../api.js';
import { ErrorSummary, Field, Loading, Pager, Status, TableWrap, aria, usePager } from '../ui.jsx';

export function Inventory() {
	const [err, setErr] = useState(null);
	const [msg, setMsg] = useState('');
	const [sku, setSku] = useState('');
	const form = useRef(null);
	const p = usePager((cursor) => get('/api/v1/admin/inventory/low-stock' + query({ limit: 20, cursor })), []);
	const submit = async (e) => {
		e.preventDefault();
		const el = e.currentTarget; // gone from the event once we await
		const f = new FormData(el);
		const delta = String(f.get('delta')).trim();
		setErr(null);
		setMsg('');
		if (!/^[+-]?\d{1,7}$/.test(delta)) {
			setErr(new ApiError(400, { title: 'Check the form', errors: [{ field: 'delta', message: 'a whole number, negative to take stock out' }] }));
			return;
		}
		try {
			const r = await request('POST', '/api/v1/admin/inventory/adjustments', { json: { sku: sku.trim(), delta: Number(delta), reason: String(f.get('reason')) } });
			const a = r.data;
			setMsg(`${a.sku}: stock ${a.stock_before} → ${a.stock}${a.low_stock ? ' (below its threshold)' : ''}.`);
			el.reset();
			setSku('');
			p.reload();
		} catch (x) {
			setErr(x);
		}
	};
	const pick = (s) => {
		setSku(s);
		const el = form.current && form.current.querySelector('[name=delta]');
		if (el) el.focus();
	};
	return (
		<div>
			<h2>Adjust stock</h2>
			<Status text={msg} />
			<ErrorSummary err={err} />
			<form class="grid" ref={form} onSubmit={submit} noValidate aria-label="Adjust stock">
				<Field label="SKU" name="sku" err={err}>
					<input value={sku} onInput={(e) => setSku(e.currentTarget.value)} maxLength={64} required {...aria('sku', err)} />
				</Field>
				<Field label="Change" name="delta" err={err} hint="+10 received, -2 damaged">
					<input inputmode="numeric" required {...aria('delta', err, true)} />
				</Field>
				<Field label="Reason" name="reason" err={err}>
					<input maxLength={200} required {...aria('reason', err)} />
				</Field>
				<div class="actions">
					<button type="submit" class="primary">
						Adjust
					</button>
				</div>
			</form>
			<h2>Low stock</h2>
			<Loading p={p} />
			{!p.loading && p.items.length === 0 && !p.error && <p class="muted">No variant is below its threshold.</p>}
			{p.items.length > 0 && (
				<TableWrap label="Low stock">
					<thead>
						<tr>
							<th scope="col">Product</th>
							<th scope="col">SKU</th>
							<th scope="col">Stock</th>
							<th scope="col">Threshold</th>
							<th scope="col">
								<span class="sr-only">Actions</span>
							</th>
						</tr>
					</thead>
					<tbody>
						{p.items.flatMap((prod) =>
							prod.variants.map((v) => (
								<tr key={v.sku}>
									<td>
										<Link href={`/products/${prod.product_id}`}>{prod.title}</Link>
									</td>
									<td>{v.sku}</td>
									<td>{v.stock}</td>
									<td>{v.low_stock_threshold}</td>
									<td>
										<button type="button" onClick={() => pick(v.sku)} aria-label={`Adjust ${v.sku}`}>
											Adjust
										</button>
									</td>
								</tr>
							))
						)}
					</tbody>
				</TableWrap>
			)}
			<Pager p={p} label="Low stock" />
		</div>
	);
}
