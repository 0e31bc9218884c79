// ui.jsx - the panel's shared pieces: form fields that show the
// problem+json error naming them, an error summary, a cursor pager, a
// polite live region for status messages.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';

// An element id for an API field name ("variants[1].price").
export const fieldId = (name) => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

// <Field label name err>{input}</Field>: the input must carry
// id={fieldId(name)} (aria(name, ...) gives it), or the same explicit id
// given to both when one form's field names repeat another's.
export function Field({ label, name, err, hint, children, class: cls, id: explicit }) {
	const msg = err instanceof ApiError ? err.field(name) : null;
	const id = explicit || fieldId(name);
	return (
		<div class={`field${msg ? ' invalid' : ''}${cls ? ` ${cls}` : ''}`}>
			<label for={id}>{label}</label>
			{children}
			{hint && <small id={`${id}-hint`} class="hint">{hint}</small>}
			{msg && <small id={`${id}-err`} class="error" role="alert">{msg}</small>}
		</div>
	);
}

// aria attributes for an input bound to API field NAME.
export function aria(name, err, hint, explicit) {
	const id = explicit || fieldId(name);
	const msg = err instanceof ApiError ? err.field(name) : null;
	const by = [hint ? `${id}-hint` : null, msg ? `${id}-err` : null].filter(Boolean).join(' ');
	return { id, name, 'aria-invalid': msg ? 'true' : undefined, 'aria-describedby': by || undefined };
}

// The error of a request: title and detail, then each field error as a
// link to its input (the field itself shows the message too).
export function ErrorSummary({ err }) {
	const ref = useRef(null);
	useEffect(() => {
		if (err && ref.current) ref.current.focus();
	}, [err]);
	if (!err) return null;
	const title = err instanceof ApiError ? err.problem.title || `Error ${err.status}` : 'Something went wrong';
	const detail = err instanceof ApiError ? err.problem.detail : String(err.message || err);
	return (
		<div class="error-summary" role="alert" tabindex="-1" ref={ref}>
			<strong>{title}</strong>
			{detail && <p>{detail}</p>}
			{err.errors && err.errors.length > 0 && (
				<ul>
					{err.errors.map((e) => (
						<li key={e.field}>
							{/* a link only when the form has that input */}
							{document.getElementById(fieldId(e.field)) ? (
								<a href={`#${fieldId(e.field)}`} onClick={(ev) => focusField(ev, e.field)}>
									{e.field}
								</a>
							) : (
								<code>{e.field}</code>
							)}
							: {e.message}
						</li>
					))}
				</ul>
			)}
		</div>
	);
}

function focusField(ev, field) {
	const el = document.getElementById(fieldId(field));
	if (el) {
		ev.preventDefault();
		el.focus();
	}
}

// A status line read out by screen readers ("Saved.").
export function Status({ text }) {
	return (
		<p class="status" role="status" aria-live="polite">
			{text || ''}
		</p>
	);
}

// usePager(load, deps) over a keyset-paginated list: load(cursor) must
// return {items, next_cursor}. Keeps the cursors seen so "Previous" works.
export function usePager(load, deps) {
	const [state, setState] = useState({ items: [], next: null, loading: true, error: null });
	const [cursors, setCursors] = useState([null]); // cursors[i] opened page i
	const page = cursors.length - 1;
	const fetchPage = useCallback(
		async (cursor) => {
			setState((s) => ({ ...s, loading: true, error: null }));
			try {
				const r = await load(cursor);
				setState({ items: r.items || [], next: r.next_cursor || null, loading: false, error: null });
			} catch (e) {
				setState({ items: [], next: null, loading: false, error: e });
			}
		},
		deps // eslint-disable-line react-hooks/exhaustive-deps
	);
	useEffect(() => {
		setCursors([null]);
		fetchPage(null);
	}, [fetchPage]);
	return {
		...state,
		page,
		hasPrev: page > 0,
		nextPage: () => {
			if (!state.next) return;
			setCursors((c) => [...c, state.next]);
			fetchPage(state.next);
		},
		prevPage: () => {
			if (page === 0) return;
			const c = cursors.slice(0, -1);
			setCursors(c);
			fetchPage(c[c.length - 1]);
		},
		reload: () => fetchPage(cursors[cursors.length - 1]),
	};
}

export function Pager({ p, label }) {
	return (
		<nav class="pager" aria-label={`${label} pages`}>
			<button type="button" onClick={p.prevPage} disabled={!p.hasPrev || p.loading}>
				Previous
			</button>
			<span aria-live="polite">Page {p.page + 1}</span>
			<button type="button" onClick={p.nextPage} disabled={!p.next || p.loading}>
				Next
			</button>
		</nav>
	);
}

// A table that scrolls sideways on a phone, reachable by keyboard.
export function TableWrap({ label, children }) {
	return (
		<div class="table-wrap" role="region" aria-label={label} tabindex="0">
			<table>{children}</table>
		</div>
	);
}

export function Loading({ p }) {
	if (p.loading) return <p class="muted">Loading…</p>;
	if (p.error) return <ErrorSummary err={p.error} />;
	return null;
}

export function fmtDate(s) {
	if (!s) return '';
	const d = new Date(s);
	return Number.isNaN(d.getTime()) ? s : d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}
