// api.js - every call the panel makes to /api/v1, in one place.
//
// The access token lives in memory only. The refresh token is the
// HttpOnly __Host-emporium_rt cookie the login set; to use it the server
// wants X-CSRF-Token equal to the readable __Host-emporium_csrf cookie.
// A 401 on any call refreshes once and retries; refreshes are serialised
// because the server rotates the refresh token on every use and treats a
// second use of a rotated token as theft (it revokes the whole family).

const CSRF_COOKIE = '__Host-emporium_csrf';

let access = null;      // the bearer token
let csrf = null;        // the session's CSRF token (also in the cookie)
let refreshing = null;  // the in-flight refresh, shared by concurrent 401s
const listeners = new Set();

export class ApiError extends Error {
	constructor(status, problem) {
		super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
		this.status = status;
		this.problem = problem || {};
		this.errors = Array.isArray(this.problem.errors) ? this.problem.errors : [];
	}
	// The message of the error that names FIELD, if any.
	field(name) {
		const e = this.errors.find((x) => x.field === name);
		return e ? e.message : null;
	}
}

function cookie(name) {
	for (const part of document.cookie.split(';')) {
		const i = part.indexOf('=');
		if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
	}
	return null;
}

// The claims of the access token (the server checked the signature; we
// only read the role and subject to choose which screens to show).
function claims(token) {
	try {
		const b = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
		return JSON.parse(atob(b + '==='.slice((b.length + 3) % 4)));
	} catch {
		return null;
	}
}

export function session() {
	const c = access ? claims(access) : null;
	return c ? { role: c.role, sub: c.sub, email: c.email || null } : null;
}

export function onSession(fn) {
	listeners.add(fn);
	return () => listeners.delete(fn);
}

function setSession(body) {
	access = body ? body.access_token : null;
	csrf = body ? body.csrf_token : null;
	for (const fn of listeners) fn(session());
}

async function parse(res) {
	const type = res.headers.get('content-type') || '';
	if (res.status === 204) return null;
	if (type.includes('json')) return res.json();
	return res.text();
}

async function raw(method, path, { json, form, headers = {}, auth = true } = {}) {
	const h = { Accept: 'application/json', ...headers };
	let body;
	if (json !== undefined) {
		h['Content-Type'] = 'application/json';
		body = JSON.stringify(json);
	} else if (form) {
		body = form; // the browser writes the multipart boundary
	}
	if (auth && access) h.Authorization = `Bearer ${access}`;
	return fetch(path, { method, headers: h, body, credentials: 'same-origin', cache: 'no-store' });
}

// refresh(): a new access token from the refresh cookie; false when the
// session is gone (then the panel shows the sign-in screen).
export function refresh() {
	if (refreshing) return refreshing;
	const token = cookie(CSRF_COOKIE) || csrf;
	if (!token) return Promise.resolve(false);
	refreshing = (async () => {
		try {
			const res = await raw('POST', '/api/v1/auth/refresh', { headers: { 'X-CSRF-Token': token }, auth: false });
			if (!res.ok) {
				setSession(null);
				return false;
			}
			setSession(await res.json());
			return true;
		} catch {
			return false;
		} finally {
			refreshing = null;
		}
	})();
	return refreshing;
}

// request(method, path, opts) -> { data, etag, status }; throws ApiError.
export async function request(method, path, opts = {}) {
	let res = await raw(method, path, opts);
	if (res.status === 401 && opts.auth !== false && (await refresh())) res = await raw(method, path, opts);
	const data = await parse(res);
	if (!res.ok) {
		if (res.status === 401 && opts.auth !== false) setSession(null);
		throw new ApiError(res.status, typeof data === 'object' ? data : { detail: String(data).slice(0, 200) });
	}
	return { data, etag: res.headers.get('etag'), status: res.status, headers: res.headers };
}

// download(path, fallback): GET path as CSV with the session's token (a
// plain link would go without it) and hand it to the browser as a file
// named by the answer's Content-Disposition. Returns the file name.
export async function download(path, fallback) {
	const r = await request('GET', path, { headers: { Accept: 'text/csv' } });
	const m = /filename="([^"\\]+)"/.exec(r.headers.get('content-disposition') || '');
	const name = m ? m[1] : fallback;
	const url = URL.createObjectURL(new Blob([r.data], { type: 'text/csv' }));
	const a = document.createElement('a');
	a.href = url;
	a.download = name;
	document.body.appendChild(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 60000);
	return name;
}

export const get = (path) => request('GET', path).then((r) => r.data);

export async function login(email, password, totp) {
	const body = { email, password };
	// six digits are a TOTP code; anything else typed there is a recovery code
	if (totp) body[/^\d{6}$/.test(totp) ? 'totp' : 'recovery_code'] = totp;
	const { data } = await request('POST', '/api/v1/auth/login', { json: body, auth: false });
	setSession(data);
	return session();
}

export async function logout() {
	const token = cookie(CSRF_COOKIE) || csrf;
	try {
		await raw('POST', '/api/v1/auth/logout', { headers: token ? { 'X-CSRF-Token': token } : {}, auth: false });
	} finally {
		setSession(null);
	}
}

// query({a: 1, b: ''}) -> '?a=1' (empty values left out)
export function query(params) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
	const s = q.toString();
	return s ? `?${s}` : '';
}
