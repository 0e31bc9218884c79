// coupons.jsx - the coupon list (pages), create and edit (If-Match on the
// coupon's ETag), switch on/off, delete.
import { useState } from 'preact/hooks';
import { ApiError, get, query, request } from '../api.js';
import { formatMoney, fromMinor, toMinor } from '../money.js';
import { ErrorSummary, Field, Loading, Pager, Status, TableWrap, aria, fmtDate, usePager } from '../ui.jsx';

const blank = { code: '', type: 'percent', percent: '', amount: '', max_discount: '', min_subtotal: '', starts_at: '', ends_at: '', usage_limit: '', usage_limit_per_customer: '', first_order_only: false, active: true };

// "12.5" (%) -> 1250 basis points, as a string operation
function toBp(s) {
	const m = /^(\d{1,3})(?:\.(\d{0,2}))?$/.exec(String(s).trim());
	return m ? Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0')) : null;
}
const fromBp = (bp) => (Number.isInteger(bp) ? `${Math.floor(bp / 100)}${bp % 100 ? `.${String(bp % 100).padStart(2, '0')}` : ''}` : '');
const toLocal = (iso) => (iso ? iso.slice(0, 16) : '');
const fromLocal = (s) => (s ? new Date(`${s}Z`).toISOString().replace('.000Z', 'Z') : null);

function describe(c) {
	if (c.type === 'percent') return `${fromBp(c.percent_bp)} %${c.max_discount !== undefined ? ` (at most ${fromMinor(c.max_discount)})` : ''}`;
	if (c.type === 'fixed') return `${fromMinor(c.amount)} off`;
	return 'free shipping';
}

export function Coupons() {
	const [f, setF] = useState(blank);
	const [editing, setEditing] = useState(null); // {id, etag}
	const [err, setErr] = useState(null);
	const [listErr, setListErr] = useState(null);
	const [msg, setMsg] = useState('');
	const p = usePager((cursor) => get('/api/v1/admin/coupons' + query({ limit: 20, cursor })), []);
	const set = (k) => (e) => {
		const t = e.currentTarget;
		setF((o) => ({ ...o, [k]: t.type === 'checkbox' ? t.checked : t.value }));
	};

	const body = () => {
		const errors = [];
		const out = { code: f.code.trim(), type: f.type, first_order_only: f.first_order_only, active: f.active };
		const money = (k, opt) => {
			if (String(f[k]).trim() === '') return opt ? (editing ? null : undefined) : undefined;
			const v = toMinor(f[k]);
			if (v === null) errors.push({ field: k, message: 'an amount like 100.00' });
			return v;
		};
		const int = (k) => {
			const t = String(f[k]).trim();
			if (t === '') return editing ? null : undefined;
			if (!/^\d{1,9}$/.test(t) || Number(t) < 1) errors.push({ field: k, message: 'a whole number, 1 or more' });
			return Number(t);
		};
		if (f.type === 'percent') {
			const bp = toBp(f.percent);
			if (bp === null) errors.push({ field: 'percent_bp', message: 'a percentage like 10 or 12.5' });
			out.percent_bp = bp;
			const md = money('max_discount', true);
			if (md !== undefined) out.max_discount = md;
		}
		if (f.type === 'fixed') out.amount = money('amount', false);
		const ms = money('min_subtotal', false);
		if (ms !== undefined) out.min_subtotal = ms;
		for (const k of ['usage_limit', 'usage_limit_per_customer']) {
			const v = int(k);
			if (v !== undefined) out[k] = v;
		}
		for (const k of ['starts_at', 'ends_at']) {
			const v = fromLocal(f[k]);
			if (v || editing) out[k] = v;
		}
		if (errors.length) throw new ApiError(400, { title: 'Check the form', errors });
		return out;
	};
	const submit = async (e) => {
		e.preventDefault();
		setErr(null);
		setMsg('');
		try {
			const json = body();
			if (editing) await request('PATCH', `/api/v1/admin/coupons/${editing.id}`, { json, headers: editing.etag ? { 'If-Match': editing.etag } : {} });
			else await request('POST', '/api/v1/admin/coupons', { json });
			setMsg(editing ? `Coupon ${json.code} saved.` : `Coupon ${json.code} created.`);
			setF(blank);
			setEditing(null);
			p.reload();
		} catch (x) {
			setErr(x);
		}
	};
	const edit = async (c) => {
		setErr(null);
		try {
			const r = await request('GET', `/api/v1/admin/coupons/${c.id}`);
			const d = r.data;
			setEditing({ id: d.id, etag: r.etag });
			setF({
				code: d.code, type: d.type, percent: fromBp(d.percent_bp), amount: fromMinor(d.amount), max_discount: fromMinor(d.max_discount),
				min_subtotal: fromMinor(d.min_subtotal), starts_at: toLocal(d.starts_at), ends_at: toLocal(d.ends_at),
				usage_limit: d.usage_limit ? String(d.usage_limit) : '', usage_limit_per_customer: d.usage_limit_per_customer ? String(d.usage_limit_per_customer) : '',
				first_order_only: d.first_order_only, active: d.active,
			});
			requestAnimationFrame(() => document.getElementById('f-code') && document.getElementById('f-code').focus());
		} catch (x) {
			setListErr(x);
		}
	};
	const toggle = async (c) => {
		setListErr(null);
		try {
			await request('PATCH', `/api/v1/admin/coupons/${c.id}`, { json: { active: !c.active } });
			setMsg(`Coupon ${c.code} ${c.active ? 'switched off' : 'switched on'}.`);
			p.reload();
		} catch (x) {
			setListErr(x);
		}
	};
	const remove = async (c) => {
		setListErr(null);
		try {
			await request('DELETE', `/api/v1/admin/coupons/${c.id}`);
			setMsg(`Coupon ${c.code} deleted.`);
			p.reload();
		} catch (x) {
			setListErr(x);
		}
	};
	return (
		<div>
			<Status text={msg} />
			<ErrorSummary err={listErr} />
			<Loading p={p} />
			<TableWrap label="Coupons">
				<thead>
					<tr>
						<th scope="col">Code</th>
						<th scope="col">Discount</th>
						<th scope="col">Minimum</th>
						<th scope="col">Used</th>
						<th scope="col">Valid</th>
						<th scope="col">State</th>
						<th scope="col">
							<span class="sr-only">Actions</span>
						</th>
					</tr>
				</thead>
				<tbody>
					{p.items.map((c) => (
						<tr key={c.id}>
							<td>
								<code>{c.code}</code>
								{c.first_order_only && <span class="badge">first order</span>}
							</td>
							<td>{describe(c)}</td>
							<td>{formatMoney(c.min_subtotal)}</td>
							<td>
								{c.used_count}
								{c.usage_limit ? ` / ${c.usage_limit}` : ''}
							</td>
							<td>
								{fmtDate(c.starts_at) || '—'} → {fmtDate(c.ends_at) || '—'}
							</td>
							<td>
								<span class={`badge ${c.active ? 'active' : 'archived'}`}>{c.active ? 'on' : 'off'}</span>
							</td>
							<td class="buttons">
								<button type="button" onClick={() => edit(c)} aria-label={`Edit ${c.code}`}>
									Edit
								</button>
								<button type="button" onClick={() => toggle(c)} aria-label={`${c.active ? 'Switch off' : 'Switch on'} ${c.code}`}>
									{c.active ? 'Switch off' : 'Switch on'}
								</button>
								<button type="button" class="danger" onClick={() => remove(c)} aria-label={`Delete ${c.code}`}>
									Delete
								</button>
							</td>
						</tr>
					))}
				</tbody>
			</TableWrap>
			<Pager p={p} label="Coupons" />
			<h2>{editing ? `Edit coupon ${f.code}` : 'New coupon'}</h2>
			<ErrorSummary err={err} />
			<form class="grid" onSubmit={submit} noValidate aria-label={editing ? 'Edit coupon' : 'New coupon'}>
				<Field label="Code" name="code" err={err}>
					<input value={f.code} onInput={set('code')} maxLength={32} {...aria('code', err)} />
				</Field>
				<Field label="Type" name="type" err={err}>
					<select value={f.type} onChange={set('type')} {...aria('type', err)}>
						<option value="percent">percent off</option>
						<option value="fixed">fixed amount off</option>
						<option value="free_shipping">free shipping</option>
					</select>
				</Field>
				{f.type === 'percent' && (
					<Field label="Percent off" name="percent_bp" err={err}>
						<input inputmode="decimal" value={f.percent} onInput={set('percent')} {...aria('percent_bp', err)} />
					</Field>
				)}
				{f.type === 'percent' && (
					<Field label="At most" name="max_discount" err={err}>
						<input inputmode="decimal" value={f.max_discount} onInput={set('max_discount')} {...aria('max_discount', err)} />
					</Field>
				)}
				{f.type === 'fixed' && (
					<Field label="Amount off" name="amount" err={err}>
						<input inputmode="decimal" value={f.amount} onInput={set('amount')} {...aria('amount', err)} />
					</Field>
				)}
				<Field label="Minimum subtotal" name="min_subtotal" err={err}>
					<input inputmode="decimal" value={f.min_subtotal} onInput={set('min_subtotal')} {...aria('min_subtotal', err)} />
				</Field>
				<Field label="Starts (UTC)" name="starts_at" err={err}>
					<input type="datetime-local" value={f.starts_at} onInput={set('starts_at')} {...aria('starts_at', err)} />
				</Field>
				<Field label="Ends (UTC)" name="ends_at" err={err}>
					<input type="datetime-local" value={f.ends_at} onInput={set('ends_at')} {...aria('ends_at', err)} />
				</Field>
				<Field label="Uses in all" name="usage_limit" err={err}>
					<input inputmode="numeric" value={f.usage_limit} onInput={set('usage_limit')} {...aria('usage_limit', err)} />
				</Field>
				<Field label="Uses per customer" name="usage_limit_per_customer" err={err}>
					<input inputmode="numeric" value={f.usage_limit_per_customer} onInput={set('usage_limit_per_customer')} {...aria('usage_limit_per_customer', err)} />
				</Field>
				<div class="field check">
					<input type="checkbox" checked={f.first_order_only} onChange={set('first_order_only')} {...aria('first_order_only', err)} />
					<label for="f-first_order_only">First order only</label>
				</div>
				<div class="field check">
					<input type="checkbox" checked={f.active} onChange={set('active')} {...aria('active', err)} />
					<label for="f-active">Active</label>
				</div>
				<div class="actions">
					<button type="submit" class="primary">
						{editing ? 'Save coupon' : 'Create coupon'}
					</button>
					{editing && (
						<button type="button" onClick={() => (setEditing(null), setF(blank), setErr(null))}>
							Cancel
						</button>
					)}
				</div>
			</form>
		</div>
	);
}
