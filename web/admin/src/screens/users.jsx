// users.jsx - accounts and roles (admin only): email prefix search, pages,
// change a role, disable or enable an account.
import { useState } from 'preact/hooks';
import { get, query, request } from '../api.js';
import { ErrorSummary, Loading, Pager, Status, TableWrap, fmtDate, usePager } from '../ui.jsx';

export function Users({ who }) {
	const [email, setEmail] = useState('');
	const [applied, setApplied] = useState('');
	const [err, setErr] = useState(null);
	const [msg, setMsg] = useState('');
	const [roles, setRoles] = useState({}); // chosen, not yet saved
	const p = usePager((cursor) => get('/api/v1/admin/users' + query({ email: applied, limit: 25, cursor })), [applied]);
	const patch = async (u, json, done) => {
		setErr(null);
		setMsg('');
		try {
			await request('PATCH', `/api/v1/admin/users/${u.id}`, { json });
			setRoles((r) => {
				const n = { ...r };
				delete n[u.id];
				return n;
			});
			setMsg(done);
			p.reload();
		} catch (x) {
			setErr(x);
		}
	};
	return (
		<div>
			<form class="filters" role="search" aria-label="Find accounts" onSubmit={(e) => (e.preventDefault(), setApplied(email.trim()))}>
				<div class="field">
					<label for="uf-email">Email starts with</label>
					<input id="uf-email" type="search" value={email} onInput={(e) => setEmail(e.currentTarget.value)} maxLength={254} />
				</div>
				<div class="actions">
					<button type="submit">Search</button>
				</div>
			</form>
			<Status text={msg} />
			<ErrorSummary err={err} />
			<Loading p={p} />
			<TableWrap label="Accounts">
				<thead>
					<tr>
						<th scope="col">Email</th>
						<th scope="col">Name</th>
						<th scope="col">Role</th>
						<th scope="col">State</th>
						<th scope="col">Created</th>
					</tr>
				</thead>
				<tbody>
					{p.items.map((u) => {
						const self = u.id === who.sub;
						return (
							<tr key={u.id}>
								<td>
									{u.email}
									{!u.email_verified && <span class="badge warn">unverified</span>}
								</td>
								<td>{u.name}</td>
								<td>
									<label class="sr-only" for={`role-${u.id}`}>
										Role of {u.email}
									</label>
									{/* applied by its button: arrow keys on a closed select fire
									    change events, which must not change anyone's role */}
									<span class="buttons">
										<select id={`role-${u.id}`} value={roles[u.id] || u.role || 'customer'} disabled={self} onChange={(e) => setRoles({ ...roles, [u.id]: e.currentTarget.value })}>
											<option value="customer">customer</option>
											<option value="staff">staff</option>
											<option value="admin">admin</option>
										</select>
										{roles[u.id] && roles[u.id] !== u.role && (
											<button type="button" class="primary" aria-label={`Save the role of ${u.email}`} onClick={() => patch(u, { role: roles[u.id] }, `${u.email} is now ${roles[u.id]}.`)}>
												Save
											</button>
										)}
									</span>
								</td>
								<td>
									<button type="button" disabled={self} onClick={() => patch(u, { disabled: !u.disabled }, `${u.email} ${u.disabled ? 'enabled' : 'disabled'}.`)} aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.email}`}>
										{u.disabled ? 'Enable' : 'Disable'}
									</button>
									{u.disabled && <span class="badge warn">disabled</span>}
								</td>
								<td>{fmtDate(u.created_at)}</td>
							</tr>
						);
					})}
				</tbody>
			</TableWrap>
			<Pager p={p} label="Accounts" />
		</div>
	);
}
