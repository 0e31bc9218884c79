// categories.jsx - the category tree: add (after its siblings), move up/down among siblings
// (positions renumbered 0, 10, 20... so later inserts fit between), delete
// an empty leaf.
import { useEffect, useState } from 'preact/hooks';
import { get, request } from '../api.js';
import { ErrorSummary, Field, Status, aria } from '../ui.jsx';

export function Categories() {
	const [tree, setTree] = useState(null);
	const [err, setErr] = useState(null);
	const [formErr, setFormErr] = useState(null);
	const [msg, setMsg] = useState('');
	const [busy, setBusy] = useState(false);
	const [editing, setEditing] = useState(null); // the category being renamed
	const [renameErr, setRenameErr] = useState(null);
	const load = () =>
		get('/api/v1/categories')
			.then((r) => setTree(r.items))
			.catch(setErr);
	useEffect(() => {
		load();
	}, []);

	const flat = [];
	const walk = (nodes, depth) => nodes.forEach((n) => (flat.push({ ...n, depth }), walk(n.children || [], depth + 1)));
	if (tree) walk(tree, 0);

	const move = async (siblings, i, dir) => {
		const order = [...siblings];
		[order[i], order[i + dir]] = [order[i + dir], order[i]];
		setBusy(true);
		setErr(null);
		try {
			for (let k = 0; k < order.length; k++)
				if (order[k].position !== k * 10) await request('PATCH', `/api/v1/admin/categories/${order[k].id}`, { json: { position: k * 10 } });
			await load();
			setMsg(`${siblings[i].name} moved ${dir < 0 ? 'up' : 'down'}.`);
			// keep the keyboard where it was: on the moved category's button
			requestAnimationFrame(() => {
				const b = document.getElementById(`cat-${dir < 0 ? 'up' : 'down'}-${siblings[i].id}`);
				if (b && !b.disabled) b.focus();
			});
		} catch (x) {
			setErr(x);
			await load();
		} finally {
			setBusy(false);
		}
	};
	const remove = async (n) => {
		setErr(null);
		try {
			await request('DELETE', `/api/v1/admin/categories/${n.id}`);
			await load();
			setMsg(`${n.name} deleted.`);
		} catch (x) {
			setErr(x);
		}
	};
	const create = async (e) => {
		e.preventDefault();
		const form = e.currentTarget;
		const f = new FormData(form);
		const parent = f.get('parent') ? String(f.get('parent')) : null;
		// a new category goes after its siblings (the API's default is 0, the top)
		const siblings = parent ? (flat.find((c) => c.id === parent) || { children: [] }).children || [] : tree || [];
		const position = Math.min(1000000, siblings.reduce((m, c) => Math.max(m, c.position + 10), 0));
		const body = { name: String(f.get('name')), slug: String(f.get('slug')), parent, position };
		setFormErr(null);
		try {
			const r = await request('POST', '/api/v1/admin/categories', { json: body });
			form.reset();
			await load();
			setMsg(`${r.data.name} added.`);
		} catch (x) {
			setFormErr(x);
		}
	};

	const rename = async (e, n) => {
		e.preventDefault();
		const el = e.currentTarget;
		const f = new FormData(el);
		setRenameErr(null);
		try {
			await request('PATCH', `/api/v1/admin/categories/${n.id}`, { json: { name: String(f.get('name')), slug: String(f.get('slug')) } });
			setEditing(null);
			await load();
			setMsg(`${f.get('name')} saved.`);
		} catch (x) {
			setRenameErr(x);
		}
	};

	const Nodes = ({ nodes }) => (
		<ul class="tree">
			{nodes.map((n, i) => (
				<li key={n.id}>
					<span class="node">
						<span>
							<strong>{n.name}</strong> <span class="muted">/{n.slug}</span>
						</span>
						<span class="buttons">
							<button type="button" id={`cat-up-${n.id}`} disabled={busy || i === 0} aria-label={`Move ${n.name} up`} onClick={() => move(nodes, i, -1)}>
								↑ Up
							</button>
							<button type="button" id={`cat-down-${n.id}`} disabled={busy || i === nodes.length - 1} aria-label={`Move ${n.name} down`} onClick={() => move(nodes, i, 1)}>
								↓ Down
							</button>
							<button type="button" disabled={busy} aria-label={`Rename ${n.name}`} aria-expanded={editing === n.id ? 'true' : 'false'} onClick={() => (setEditing(editing === n.id ? null : n.id), setRenameErr(null))}>
								Rename
							</button>
							<button type="button" class="danger" disabled={busy} aria-label={`Delete ${n.name}`} onClick={() => remove(n)}>
								Delete
							</button>
						</span>
					</span>
					{editing === n.id && (
						<form class="grid rename" onSubmit={(e) => rename(e, n)} noValidate aria-label={`Rename ${n.name}`}>
							<ErrorSummary err={renameErr} />
							<Field label="New name" name="name" err={renameErr} id={`rn-name-${n.id}`}>
								<input defaultValue={n.name} maxLength={100} {...aria('name', renameErr, false, `rn-name-${n.id}`)} />
							</Field>
							<Field label="New slug" name="slug" err={renameErr} id={`rn-slug-${n.id}`}>
								<input defaultValue={n.slug} maxLength={100} {...aria('slug', renameErr, false, `rn-slug-${n.id}`)} />
							</Field>
							<div class="actions">
								<button type="submit" class="primary">
									Save
								</button>
							</div>
						</form>
					)}
					{n.children && n.children.length > 0 && <Nodes nodes={n.children} />}
				</li>
			))}
		</ul>
	);

	return (
		<div>
			<Status text={msg} />
			<ErrorSummary err={err} />
			{tree === null ? <p class="muted">Loading…</p> : tree.length === 0 ? <p class="muted">No categories yet.</p> : <Nodes nodes={tree} />}
			<h2>Add a category</h2>
			<ErrorSummary err={formErr} />
			<form class="grid" onSubmit={create} noValidate aria-label="Add a category">
				<Field label="Name" name="name" err={formErr}>
					<input maxLength={100} required {...aria('name', formErr)} />
				</Field>
				<Field label="Slug" name="slug" err={formErr} hint="lower case, digits and -">
					<input maxLength={100} required {...aria('slug', formErr, true)} />
				</Field>
				<Field label="Parent" name="parent" err={formErr}>
					<select {...aria('parent', formErr)}>
						<option value="">(top level)</option>
						{flat.map((c) => (
							<option key={c.id} value={c.id}>
								{'\u2003'.repeat(c.depth)}
								{c.name}
							</option>
						))}
					</select>
				</Field>
				<div class="actions">
					<button type="submit" class="primary">
						Add category
					</button>
				</div>
			</form>
		</div>
	);
}
