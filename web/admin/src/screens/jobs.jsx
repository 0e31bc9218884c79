// jobs.jsx - the job outbox (admin only): by state, dead ones first; a
// dead job can be retried.
import { useState } from 'preact/hooks';
import { get, query, request } from '../api.js';
import { ErrorSummary, Loading, Pager, Status, TableWrap, fmtDate, usePager } from '../ui.jsx';

export function Jobs() {
	const [status, setStatus] = useState('dead');
	const [err, setErr] = useState(null);
	const [msg, setMsg] = useState('');
	const p = usePager((cursor) => get('/api/v1/admin/jobs' + query({ status, limit: 25, cursor })), [status]);
	const retry = async (j) => {
		setErr(null);
		try {
			await request('POST', `/api/v1/admin/jobs/${j.id}/retry`);
			setMsg(`Job ${j.id} queued again.`);
			p.reload();
		} catch (x) {
			setErr(x);
		}
	};
	return (
		<div>
			<form class="filters" aria-label="Filter jobs" onSubmit={(e) => e.preventDefault()}>
				<div class="field">
					<label for="jf-status">State</label>
					<select id="jf-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
						<option value="dead">dead</option>
						<option value="pending">pending</option>
						<option value="running">running</option>
						<option value="done">done</option>
						<option value="">any</option>
					</select>
				</div>
			</form>
			<Status text={msg} />
			<ErrorSummary err={err} />
			<Loading p={p} />
			{!p.loading && !p.error && p.items.length === 0 && <p class="muted">No jobs in this state.</p>}
			{p.items.length > 0 && (
				<TableWrap label="Jobs">
					<thead>
						<tr>
							<th scope="col">Type</th>
							<th scope="col">To</th>
							<th scope="col">State</th>
							<th scope="col">Attempts</th>
							<th scope="col">Last error</th>
							<th scope="col">Created</th>
							<th scope="col">
								<span class="sr-only">Actions</span>
							</th>
						</tr>
					</thead>
					<tbody>
						{p.items.map((j) => (
							<tr key={j.id}>
								<td>
									{j.type} {j.template && <span class="muted">({j.template})</span>}
								</td>
								<td>{j.to}</td>
								<td>
									<span class={`badge ${j.status === 'dead' ? 'warn' : ''}`}>{j.status}</span>
								</td>
								<td>{j.attempts}</td>
								<td class="wrap">{j.last_error}</td>
								<td>{fmtDate(j.created_at)}</td>
								<td>
									{j.status === 'dead' && (
										<button type="button" onClick={() => retry(j)} aria-label={`Retry job ${j.id}`}>
											Retry
										</button>
									)}
								</td>
							</tr>
						))}
					</tbody>
				</TableWrap>
			)}
			<Pager p={p} label="Jobs" />
		</div>
	);
}
