// products.jsx - the product list (filters, search, pages) and the product
// editor: fields, options, variants, images (upload with preview, reorder,
// alt, remove), versions (restore), soft delete and restore.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, get, query, request } from '../api.js';
import { fromMinor, formatMoney, toMinor } from '../money.js';
import { Link, navigate } from '../router.jsx';
import { ErrorSummary, Field, Loading, Pager, Status, TableWrap, aria, fmtDate, usePager } from '../ui.jsx';

const OPTION = /^[a-z_]{1,20}$/;

export function ProductList({ search }) {
	const [status, setStatus] = useState(search.get('status') || '');
	const [deleted, setDeleted] = useState(search.get('deleted') || 'false');
	const [q, setQ] = useState(search.get('q') || '');
	const [applied, setApplied] = useState(q.trim());
	// the admin list has no text search: a search term goes to the
	// catalog's full-text search (title, brand, SKU, description), which
	// holds the active products; drafts and archived ones are found by
	// their status here
	const p = usePager(
		(cursor) => (applied ? get('/api/v1/products' + query({ q: applied, limit: 25, cursor })) : get('/api/v1/admin/products' + query({ status, deleted, limit: 25, cursor }))),
		[status, deleted, applied]
	);
	const rows = p.items;
	const err = p.error instanceof ApiError ? p.error : null;
	return (
		<div>
			<p>
				<Link href="/products/new" class="button primary">
					New product
				</Link>
			</p>
			<form class="filters" role="search" aria-label="Filter products" onSubmit={(e) => (e.preventDefault(), setApplied(q.trim()))}>
				<Field label="Search active products" name="q" err={err} id="pf-q" hint="Title, brand, SKU or description.">
					<input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} maxLength={200} {...aria('q', err, true, 'pf-q')} />
				</Field>
				<div class="actions">
					<button type="submit">Search</button>
					{applied && (
						<button type="button" onClick={() => (setQ(''), setApplied(''))}>
							Clear
						</button>
					)}
				</div>
				<div class="field">
					<label for="pf-status">Status</label>
					<select id="pf-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)} disabled={Boolean(applied)}>
						<option value="">any</option>
						<option value="draft">draft</option>
						<option value="active">active</option>
						<option value="archived">archived</option>
					</select>
				</div>
				<div class="field">
					<label for="pf-deleted">Deleted</label>
					<select id="pf-deleted" value={deleted} onChange={(e) => setDeleted(e.currentTarget.value)} disabled={Boolean(applied)}>
						<option value="false">not deleted</option>
						<option value="true">deleted only</option>
						<option value="all">all</option>
					</select>
				</div>
			</form>
			{applied && <p class="muted">Active products matching “{applied}”; clear the search to filter by status.</p>}
			<Loading p={p} />
			<TableWrap label="Products">
				<thead>
					<tr>
						<th scope="col">Title</th>
						<th scope="col">Status</th>
						<th scope="col">Price</th>
						<th scope="col">Stock</th>
						<th scope="col">Variants</th>
						<th scope="col">Updated</th>
					</tr>
				</thead>
				<tbody>
					{rows.map((x) => (
						<tr key={x.id}>
							<td>
								<Link href={`/products/${x.id}`}>{x.title}</Link>
								{x.deleted_at && <span class="badge warn">deleted</span>}
							</td>
							<td>
								<span class={`badge ${x.status}`}>{x.status}</span>
							</td>
							<td>
								{formatMoney(x.min_price, x.currency)}
								{x.max_price !== x.min_price && ` – ${formatMoney(x.max_price, x.currency)}`}
							</td>
							<td>{x.total_stock === undefined ? (x.in_stock ? 'in stock' : 'out') : x.total_stock}</td>
							<td>{x.variants.length}</td>
							<td>{fmtDate(x.updated_at)}</td>
						</tr>
					))}
				</tbody>
			</TableWrap>
			{!p.loading && rows.length === 0 && <p class="muted">No products match.</p>}
			<Pager p={p} label="Products" />
		</div>
	);
}

// The category tree as <option>s, children indented.
export function useCategoryOptions() {
	const [opts, setOpts] = useState([]);
	useEffect(() => {
		get('/api/v1/categories')
			.then((r) => {
				const out = [];
				const walk = (nodes, depth) => {
					for (const n of nodes) {
						out.push({ id: n.id, label: `${'\u2003'.repeat(depth)}${n.name}` });
						walk(n.children || [], depth + 1);
					}
				};
				walk(r.items, 0);
				setOpts(out);
			})
			.catch(() => setOpts([]));
	}, []);
	return opts;
}

const slugify = (s) =>
	s
		.toLowerCase()
		.normalize('NFKD')
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-+|-+$/g, '')
		.slice(0, 100);

const blankVariant = () => ({ sku: '', options: {}, price: '', compare_at_price: '', stock: '0', low_stock_threshold: '5', weight_grams: '', existing: false });

function formFrom(prod) {
	if (!prod) return { title: '', slug: '', brand: '', category: '', status: 'draft', currency: 'BDT', options: 'size, color', attributes: [], variants: [blankVariant()] };
	return {
		title: prod.title,
		slug: prod.slug,
		brand: prod.brand || '',
		category: prod.category || '',
		status: prod.status,
		currency: prod.currency,
		options: prod.options.join(', '),
		attributes: Object.entries(prod.attributes || {}).map(([k, v]) => ({ k, v })),
		variants: prod.variants.map((v) => ({
			sku: v.sku,
			options: { ...v.options },
			price: fromMinor(v.price),
			compare_at_price: v.compare_at_price !== undefined ? fromMinor(v.compare_at_price) : '',
			stock: String(v.stock),
			low_stock_threshold: String(v.low_stock_threshold),
			weight_grams: v.weight_grams !== undefined ? String(v.weight_grams) : '',
			existing: true,
		})),
	};
}

// The request body from the form, or an ApiError naming the fields that
// cannot be sent (shown exactly like the server's own).
function bodyFrom(f, creating) {
	const errors = [];
	const options = f.options.split(',').map((s) => s.trim()).filter(Boolean);
	if (options.some((o) => !OPTION.test(o))) errors.push({ field: 'options', message: 'option names are a-z and _, at most 20 characters, comma separated' });
	const attributes = {};
	f.attributes.forEach((a, i) => {
		if (!a.k && !a.v) return;
		if (!OPTION.test(a.k)) errors.push({ field: `attributes[${i}].name`, message: 'a-z and _, at most 20 characters' });
		attributes[a.k] = a.v;
	});
	const int = (s, field, { min = 0, optional = false } = {}) => {
		const t = String(s).trim();
		if (t === '' && optional) return undefined;
		if (!/^-?\d{1,10}$/.test(t) || Number(t) < min) {
			errors.push({ field, message: `a whole number${min === 0 ? ' (0 or more)' : ''}` });
			return undefined;
		}
		return Number(t);
	};
	const variants = f.variants.map((v, i) => {
		const out = { sku: v.sku.trim(), options: {} };
		for (const o of options) if (v.options[o]) out.options[o] = v.options[o];
		const price = toMinor(v.price);
		if (price === null) errors.push({ field: `variants[${i}].price`, message: 'a price like 12.50' });
		else out.price = price;
		if (String(v.compare_at_price).trim() !== '') {
			const c = toMinor(v.compare_at_price);
			if (c === null) errors.push({ field: `variants[${i}].compare_at_price`, message: 'a price like 15.00' });
			else out.compare_at_price = c;
		}
		// the stock of an existing SKU is inventory's: never sent from here
		if (creating || !v.existing) {
			const s = int(v.stock, `variants[${i}].stock`);
			if (s !== undefined) out.stock = s;
		}
		const t = int(v.low_stock_threshold, `variants[${i}].low_stock_threshold`, { optional: true });
		if (t !== undefined) out.low_stock_threshold = t;
		const w = int(v.weight_grams, `variants[${i}].weight_grams`, { optional: true });
		if (w !== undefined) out.weight_grams = w;
		return out;
	});
	if (errors.length) return new ApiError(400, { title: 'Check the form', detail: 'Some fields need another value.', errors });
	const body = { title: f.title, slug: f.slug, brand: f.brand, category: f.category || null, status: f.status, currency: f.currency, options, attributes, variants };
	return body;
}

// The API names some fields in its own terms: "attributes.<name>" for an
// attribute, "sku" for a SKU repeated in the product. Point those at the
// inputs that hold them, so the message shows next to the right one.
function remap(x, f) {
	if (!(x instanceof ApiError) || !x.errors.length) return x;
	const errors = x.errors.map((e) => {
		const m = /^attributes\.(.+)$/.exec(e.field);
		if (m) {
			const i = f.attributes.findIndex((a) => a.k === m[1]);
			if (i >= 0) return { ...e, field: `attributes[${i}].name` };
		}
		if (e.field === 'sku') {
			const seen = new Set();
			const i = f.variants.findIndex((v) => (seen.has(v.sku.trim()) ? true : (seen.add(v.sku.trim()), false)));
			if (i >= 0) return { ...e, field: `variants[${i}].sku` };
		}
		return e;
	});
	return new ApiError(x.status, { ...x.problem, errors });
}

export function ProductEdit({ params }) {
	const id = params.id || null;
	const [prod, setProd] = useState(null);
	const [etag, setEtag] = useState(null);
	const [f, setF] = useState(formFrom(null));
	const [err, setErr] = useState(null);
	const [msg, setMsg] = useState('');
	const [busy, setBusy] = useState(false);
	const [slugTouched, setSlugTouched] = useState(Boolean(id));
	const cats = useCategoryOptions();

	const load = async () => {
		const r = await request('GET', `/api/v1/admin/products/${encodeURIComponent(id)}`);
		setProd(r.data);
		setEtag(r.etag);
		setF(formFrom(r.data));
		return r.data;
	};
	useEffect(() => {
		if (id) load().catch(setErr);
	}, [id]);

	const set = (k) => (e) => {
		const v = e.currentTarget.value;
		setF((o) => {
			const n = { ...o, [k]: v };
			if (k === 'title' && !slugTouched) n.slug = slugify(v);
			return n;
		});
		if (k === 'slug') setSlugTouched(true);
	};
	const setVar = (i, k, sub) => (e) => {
		const v = e.currentTarget.value;
		setF((o) => ({ ...o, variants: o.variants.map((x, j) => (j !== i ? x : sub ? { ...x, options: { ...x.options, [sub]: v } } : { ...x, [k]: v })) }));
	};
	const setAttr = (i, k) => (e) => {
		const v = e.currentTarget.value;
		setF((o) => ({ ...o, attributes: o.attributes.map((x, j) => (j === i ? { ...x, [k]: v } : x)) }));
	};
	const optionNames = f.options.split(',').map((s) => s.trim()).filter((s) => OPTION.test(s));

	const save = async (e) => {
		e.preventDefault();
		setErr(null);
		setMsg('');
		const body = bodyFrom(f, !id);
		if (body instanceof ApiError) {
			setErr(body);
			return;
		}
		setBusy(true);
		try {
			if (!id) {
				const r = await request('POST', '/api/v1/admin/products', { json: body });
				setMsg('Product created.');
				navigate(`/products/${r.data.id}`, { replace: true });
				return;
			}
			await request('PATCH', `/api/v1/admin/products/${id}`, { json: body, headers: etag ? { 'If-Match': etag } : {} });
			await load();
			setMsg('Saved.');
		} catch (x) {
			setErr(remap(x, f));
			if (x instanceof ApiError && x.status === 412) setMsg('Someone changed this product meanwhile: reload to see their change.');
		} finally {
			setBusy(false);
		}
	};

	const lifecycle = async (what) => {
		setErr(null);
		setMsg('');
		try {
			const path = what === 'delete' ? `/api/v1/admin/products/${id}` : `/api/v1/admin/products/${id}/restore`;
			await request(what === 'delete' ? 'DELETE' : 'POST', path, { headers: etag ? { 'If-Match': etag } : {} });
			await load();
			setMsg(what === 'delete' ? 'Product deleted (it can be restored).' : 'Product restored.');
		} catch (x) {
			setErr(x);
		}
	};

	if (id && !prod && !err) return <p class="muted">Loading…</p>;
	return (
		<div>
			<p>
				<Link href="/products">← All products</Link>
			</p>
			{prod && (
				<p class="meta">
					<span class={`badge ${prod.status}`}>{prod.status}</span> version {prod.version}, updated {fmtDate(prod.updated_at)}
					{prod.deleted_at && <span class="badge warn">deleted {fmtDate(prod.deleted_at)}</span>}
				</p>
			)}
			<Status text={msg} />
			<ErrorSummary err={err} />
			<form onSubmit={save} noValidate aria-label="Product">
				<fieldset>
					<legend>Product</legend>
					<div class="grid">
						<Field label="Title" name="title" err={err}>
							<input value={f.title} onInput={set('title')} maxLength={200} required {...aria('title', err)} />
						</Field>
						<Field label="Slug" name="slug" err={err} hint="lower case, digits and -">
							<input value={f.slug} onInput={set('slug')} maxLength={100} required {...aria('slug', err, true)} />
						</Field>
						<Field label="Brand" name="brand" err={err}>
							<input value={f.brand} onInput={set('brand')} maxLength={100} {...aria('brand', err)} />
						</Field>
						<Field label="Category" name="category" err={err}>
							<select value={f.category} onChange={set('category')} {...aria('category', err)}>
								<option value="">(none)</option>
								{cats.map((c) => (
									<option key={c.id} value={c.id}>
										{c.label}
									</option>
								))}
							</select>
						</Field>
						<Field label="Status" name="status" err={err}>
							<select value={f.status} onChange={set('status')} {...aria('status', err)}>
								<option value="draft">draft</option>
								<option value="active">active</option>
								<option value="archived">archived</option>
							</select>
						</Field>
						<Field label="Currency" name="currency" err={err}>
							<input value={f.currency} onInput={set('currency')} maxLength={3} size={4} {...aria('currency', err)} />
						</Field>
						<Field label="Options" name="options" err={err} hint="names of the variant options, comma separated (size, color)">
							<input value={f.options} onInput={set('options')} {...aria('options', err, true)} />
						</Field>
					</div>
				</fieldset>
				<fieldset>
					<legend>Attributes</legend>
					{f.attributes.map((a, i) => (
						<div class="row" key={i}>
							<Field label="Name" name={`attributes[${i}].name`} err={err}>
								<input value={a.k} onInput={setAttr(i, 'k')} maxLength={20} {...aria(`attributes[${i}].name`, err)} />
							</Field>
							<Field label="Value" name={`attributes[${i}].value`} err={err}>
								<input value={a.v} onInput={setAttr(i, 'v')} maxLength={200} {...aria(`attributes[${i}].value`, err)} />
							</Field>
							<button type="button" aria-label={`Remove attribute ${a.k || i + 1}`} onClick={() => setF((o) => ({ ...o, attributes: o.attributes.filter((_, j) => j !== i) }))}>
								Remove
							</button>
						</div>
					))}
					<button type="button" onClick={() => setF((o) => ({ ...o, attributes: [...o.attributes, { k: '', v: '' }] }))}>
						Add attribute
					</button>
				</fieldset>
				<fieldset>
					<legend>Variants</legend>
					{err instanceof ApiError && err.field('variants') && (
						<p class="error" role="alert">
							{err.field('variants')}
						</p>
					)}
					{f.variants.map((v, i) => (
						<div class="variant" key={i} role="group" aria-label={`Variant ${i + 1}`}>
							<h3>Variant {i + 1}</h3>
							<div class="grid">
								<Field label="SKU" name={`variants[${i}].sku`} err={err}>
									<input value={v.sku} onInput={setVar(i, 'sku')} maxLength={64} {...aria(`variants[${i}].sku`, err)} />
								</Field>
								{optionNames.map((o) => (
									<Field key={o} label={o} name={`variants[${i}].options.${o}`} err={err}>
										<input value={v.options[o] || ''} onInput={setVar(i, 'options', o)} maxLength={50} {...aria(`variants[${i}].options.${o}`, err)} />
									</Field>
								))}
								<Field label={`Price (${f.currency})`} name={`variants[${i}].price`} err={err}>
									<input inputmode="decimal" value={v.price} onInput={setVar(i, 'price')} {...aria(`variants[${i}].price`, err)} />
								</Field>
								<Field label="Compare-at price" name={`variants[${i}].compare_at_price`} err={err}>
									<input inputmode="decimal" value={v.compare_at_price} onInput={setVar(i, 'compare_at_price')} {...aria(`variants[${i}].compare_at_price`, err)} />
								</Field>
								<Field label="Stock" name={`variants[${i}].stock`} err={err} hint={v.existing ? 'change it on the Inventory screen' : undefined}>
									<input inputmode="numeric" value={v.stock} onInput={setVar(i, 'stock')} disabled={v.existing} {...aria(`variants[${i}].stock`, err, v.existing)} />
								</Field>
								<Field label="Low-stock threshold" name={`variants[${i}].low_stock_threshold`} err={err}>
									<input inputmode="numeric" value={v.low_stock_threshold} onInput={setVar(i, 'low_stock_threshold')} {...aria(`variants[${i}].low_stock_threshold`, err)} />
								</Field>
								<Field label="Weight (g)" name={`variants[${i}].weight_grams`} err={err}>
									<input inputmode="numeric" value={v.weight_grams} onInput={setVar(i, 'weight_grams')} {...aria(`variants[${i}].weight_grams`, err)} />
								</Field>
							</div>
							{err instanceof ApiError && err.field(`variants[${i}].options`) && <p class="error">{err.field(`variants[${i}].options`)}</p>}
							{err instanceof ApiError && err.field(`variants[${i}]`) && <p class="error">{err.field(`variants[${i}]`)}</p>}
							<button type="button" disabled={f.variants.length < 2} onClick={() => setF((o) => ({ ...o, variants: o.variants.filter((_, j) => j !== i) }))}>
								Remove variant {i + 1}
							</button>
						</div>
					))}
					<button type="button" onClick={() => setF((o) => ({ ...o, variants: [...o.variants, blankVariant()] }))}>
						Add variant
					</button>
				</fieldset>
				<div class="actions">
					<button type="submit" class="primary" disabled={busy}>
						{id ? 'Save changes' : 'Create product'}
					</button>
					{prod && !prod.deleted_at && (
						<button type="button" class="danger" onClick={() => lifecycle('delete')}>
							Delete product
						</button>
					)}
					{prod && prod.deleted_at && (
						<button type="button" onClick={() => lifecycle('restore')}>
							Restore product
						</button>
					)}
				</div>
			</form>
			{prod && <Images prod={prod} reload={load} />}
			{prod && <Versions prod={prod} etag={etag} reload={load} />}
		</div>
	);
}

function Images({ prod, reload }) {
	const [file, setFile] = useState(null);
	const [alt, setAlt] = useState('');
	const [err, setErr] = useState(null);
	const [msg, setMsg] = useState('');
	const [busy, setBusy] = useState(false);
	const preview = useMemo(() => (file ? URL.createObjectURL(file) : null), [file]);
	useEffect(() => () => preview && URL.revokeObjectURL(preview), [preview]);
	const images = [...prod.images].sort((a, b) => a.position - b.position);

	const upload = async (e) => {
		e.preventDefault();
		const el = e.currentTarget; // gone from the event once we await
		if (!file) {
			setErr(new ApiError(400, { title: 'Choose an image', errors: [{ field: 'file', message: 'choose a JPEG, PNG or WebP file' }] }));
			return;
		}
		const form = new FormData();
		form.append('file', file);
		if (alt) form.append('alt', alt);
		setBusy(true);
		setErr(null);
		try {
			await request('POST', `/api/v1/admin/products/${prod.id}/images`, { form });
			setFile(null);
			setAlt('');
			el.reset();
			await reload();
			setMsg('Image uploaded.');
		} catch (x) {
			setErr(x);
		} finally {
			setBusy(false);
		}
	};
	const act = async (method, img, json, done) => {
		setErr(null);
		try {
			await request(method, `/api/v1/admin/products/${prod.id}/images/${img.id}`, json ? { json } : {});
			await reload();
			setMsg(done);
		} catch (x) {
			setErr(x);
		}
	};
	return (
		<section aria-labelledby="images-h">
			<h2 id="images-h">Images</h2>
			<Status text={msg} />
			<ErrorSummary err={err} />
			<form class="upload" onSubmit={upload} noValidate aria-label="Upload an image">
				<Field label="Image file" name="file" err={err} hint="JPEG, PNG or WebP">
					<input type="file" accept="image/jpeg,image/png,image/webp" onChange={(e) => setFile(e.currentTarget.files[0] || null)} {...aria('file', err, true)} />
				</Field>
				<Field label="Alt text" name="alt" err={err}>
					<input value={alt} onInput={(e) => setAlt(e.currentTarget.value)} maxLength={300} {...aria('alt', err)} />
				</Field>
				{preview && <img class="preview" src={preview} alt={`Preview of ${file.name}`} />}
				<button type="submit" class="primary" disabled={busy}>
					{busy ? 'Uploading…' : 'Upload image'}
				</button>
			</form>
			{images.length === 0 ? (
				<p class="muted">No images yet.</p>
			) : (
				<ol class="images">
					{images.map((img, i) => (
						<li key={img.id}>
							<img src={img.url} alt={img.alt || `Image ${i + 1} of ${prod.title}`} width={img.width} height={img.height} />
							<span class="muted">
								{i + 1}. {img.width}×{img.height} {img.alt}
							</span>
							<span class="buttons">
								<button type="button" disabled={i === 0} aria-label={`Move image ${i + 1} up`} onClick={() => act('PATCH', img, { position: i - 1 }, `Image moved to place ${i}.`)}>
									↑ Up
								</button>
								<button type="button" disabled={i === images.length - 1} aria-label={`Move image ${i + 1} down`} onClick={() => act('PATCH', img, { position: i + 1 }, `Image moved to place ${i + 2}.`)}>
									↓ Down
								</button>
								<button type="button" class="danger" aria-label={`Remove image ${i + 1}`} onClick={() => act('DELETE', img, null, 'Image removed.')}>
									Remove
								</button>
							</span>
						</li>
					))}
				</ol>
			)}
		</section>
	);
}

function Versions({ prod, etag, reload }) {
	const [err, setErr] = useState(null);
	const [msg, setMsg] = useState('');
	const p = usePager((cursor) => get(`/api/v1/admin/products/${prod.id}/versions` + query({ limit: 10, cursor })), [prod.id, prod.version]);
	const restore = async (n) => {
		setErr(null);
		try {
			await request('POST', `/api/v1/admin/products/${prod.id}/versions/${n}/restore`, { headers: etag ? { 'If-Match': etag } : {} });
			await reload();
			setMsg(`Version ${n} restored as a new version.`);
		} catch (x) {
			setErr(x);
		}
	};
	return (
		<section aria-labelledby="versions-h">
			<h2 id="versions-h">Versions</h2>
			<Status text={msg} />
			<ErrorSummary err={err} />
			<Loading p={p} />
			{!p.loading && p.items.length === 0 ? (
				<p class="muted">No earlier versions.</p>
			) : (
				<TableWrap label="Versions">
					<thead>
						<tr>
							<th scope="col">Version</th>
							<th scope="col">Change</th>
							<th scope="col">When</th>
							<th scope="col">Title then</th>
							<th scope="col">
								<span class="sr-only">Actions</span>
							</th>
						</tr>
					</thead>
					<tbody>
						{p.items.map((v) => (
							<tr key={v.version}>
								<td>{v.version}</td>
								<td>{v.action}</td>
								<td>{fmtDate(v.changed_at)}</td>
								<td>{v.snapshot && v.snapshot.title}</td>
								<td>
									<button type="button" onClick={() => restore(v.version)} aria-label={`Restore version ${v.version}`}>
										Restore
									</button>
								</td>
							</tr>
						))}
					</tbody>
				</TableWrap>
			)}
			<Pager p={p} label="Versions" />
		</section>
	);
}
