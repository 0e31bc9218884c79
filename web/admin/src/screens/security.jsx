// security.jsx - the signed-in staff or admin account's second factor:
// enrol an authenticator app (TOTP, RFC 6238 with SHA-256, 6 digits, 30 s)
// in two steps, as the API wants: a pending secret shown once, then a code
// from the app turns it on and answers recovery codes, shown once. Every
// session of the account ends then, so the panel signs in again.
import { useState } from 'preact/hooks';
import { ApiError, logout, request } from '../api.js';
import { ErrorSummary, Field, aria } from '../ui.jsx';

const groups = (s) => s.replace(/=+$/, '').match(/.{1,4}/g).join(' ');

export function Security() {
	const [pending, setPending] = useState(null); // {secret, otpauth_uri}
	const [codes, setCodes] = useState(null);
	const [err, setErr] = useState(null);
	const [busy, setBusy] = useState(false);
	const [on, setOn] = useState(false);

	const begin = async () => {
		setErr(null);
		setBusy(true);
		try {
			const r = await request('POST', '/api/v1/me/mfa/totp');
			setPending(r.data);
		} catch (x) {
			if (x instanceof ApiError && x.status === 409) setOn(true);
			else setErr(x);
		} finally {
			setBusy(false);
		}
	};
	const confirm = async (e) => {
		e.preventDefault();
		const code = String(new FormData(e.currentTarget).get('code') || '').trim();
		setErr(null);
		if (!/^\d{6}$/.test(code)) {
			setErr(new ApiError(400, { title: 'Check the code', errors: [{ field: 'code', message: 'the 6 digits your app shows now' }] }));
			return;
		}
		setBusy(true);
		try {
			const r = await request('POST', '/api/v1/me/mfa/totp/confirm', { json: { code } });
			setCodes(r.data.recovery_codes);
			setPending(null);
		} catch (x) {
			setErr(x);
		} finally {
			setBusy(false);
		}
	};

	if (codes)
		return (
			<div>
				<p role="status">
					<strong>Two-factor sign-in is on.</strong> Keep these recovery codes somewhere safe: each signs you in once instead of a code, and
					they are not shown again.
				</p>
				<ul class="codes" aria-label="Recovery codes">
					{codes.map((c) => (
						<li key={c}>
							<code>{c}</code>
						</li>
					))}
				</ul>
				<p>Every session of this account has ended. Sign in again with your password and a code from the app.</p>
				<button type="button" class="primary" onClick={() => logout()}>
					Sign in again
				</button>
			</div>
		);
	return (
		<div>
			<h2>Two-factor sign-in</h2>
			<p>A second factor protects this account: signing in then needs a code from an authenticator app as well as the password.</p>
			<ErrorSummary err={err} />
			{on && <p role="status">Two-factor sign-in is already on for this account.</p>}
			{!pending && !on && (
				<button type="button" class="primary" onClick={begin} disabled={busy}>
					Set up an authenticator app
				</button>
			)}
			{pending && (
				<section aria-labelledby="enrol-h">
					<h2 id="enrol-h">Add this account to your app</h2>
					<p>Type this key into the app (time-based, SHA-256, 6 digits), or open the link on this device:</p>
					<p>
						<code id="totp-secret" class="secret" data-secret={pending.secret}>
							{groups(pending.secret)}
						</code>
					</p>
					<p>
						<a href={pending.otpauth_uri}>Open in an authenticator app</a>
					</p>
					<form class="grid" onSubmit={confirm} noValidate aria-label="Confirm the app">
						<Field label="Code from the app" name="code" err={err}>
							<input inputmode="numeric" autocomplete="one-time-code" maxLength={6} required {...aria('code', err)} />
						</Field>
						<div class="actions">
							<button type="submit" class="primary" disabled={busy}>
								Turn on
							</button>
						</div>
					</form>
				</section>
			)}
		</div>
	);
}
