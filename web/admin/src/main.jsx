// main.jsx - the Emporium admin panel: the shell (sign-in, navigation by
// role, one screen at a time) and the route table.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { login, logout, onSession, refresh, session, ApiError } from './api.js';
import { Link, match, navigate, useRoute } from './router.jsx';
import { Field, ErrorSummary, aria } from './ui.jsx';
import { Dashboard } from './screens/dashboard.jsx';
import { ProductList, ProductEdit } from './screens/products.jsx';
import { Categories } from './screens/categories.jsx';
import { Inventory } from './screens/inventory.jsx';
import { Coupons } from './screens/coupons.jsx';
import { OrderDetail, OrderList } from './screens/orders.jsx';
import { Users } from './screens/users.jsx';
import { Jobs } from './screens/jobs.jsx';
import { Security } from './screens/security.jsx';
import { PaymentLog } from './screens/payments.jsx';
import { Returns } from './screens/returns.jsx';
import { Reports } from './screens/reports.jsx';
import './styles.css';

// Each screen with the roles that may open it (the API enforces the same).
const STAFF = ['staff', 'admin'];
const ROUTES = [
	{ path: '/', title: 'Dashboard', nav: true, roles: STAFF, view: Dashboard },
	{ path: '/products', title: 'Products', nav: true, roles: STAFF, view: ProductList },
	{ path: '/products/new', title: 'New product', roles: STAFF, view: ProductEdit },
	{ path: '/products/:id', title: 'Edit product', roles: STAFF, view: ProductEdit },
	{ path: '/orders', title: 'Orders', nav: true, roles: STAFF, view: OrderList },
	{ path: '/orders/:id', title: 'Order', roles: STAFF, view: OrderDetail },
	{ path: '/returns', title: 'Returns', nav: true, roles: STAFF, view: Returns },
	{ path: '/reports', title: 'Reports', nav: true, roles: STAFF, view: Reports },
	{ path: '/categories', title: 'Categories', nav: true, roles: STAFF, view: Categories },
	{ path: '/inventory', title: 'Inventory', nav: true, roles: STAFF, view: Inventory },
	{ path: '/coupons', title: 'Coupons', nav: true, roles: STAFF, view: Coupons },
	{ path: '/users', title: 'Users and roles', nav: 'Users', roles: ['admin'], view: Users },
	{ path: '/jobs', title: 'Jobs', nav: true, roles: ['admin'], view: Jobs },
	{ path: '/payments', title: 'Payment log', nav: 'Payments', roles: ['admin'], view: PaymentLog },
	{ path: '/security', title: 'Security', nav: true, roles: STAFF, view: Security },
];

function SignIn() {
	const [err, setErr] = useState(null);
	const [busy, setBusy] = useState(false);
	const [needTotp, setNeedTotp] = useState(false);
	const submit = async (e) => {
		e.preventDefault();
		const f = new FormData(e.currentTarget);
		setBusy(true);
		setErr(null);
		try {
			const second = needTotp ? String(f.get('totp') || '').trim() : '';
			const s = await login(String(f.get('email')), String(f.get('password')), second);
			if (s && s.role !== 'staff' && s.role !== 'admin') {
				await logout();
				setErr(new ApiError(403, { title: 'Not a staff account', detail: 'This panel is for staff and admins.' }));
			}
		} catch (x) {
			if (x instanceof ApiError && x.status === 401 && x.field('totp') && !needTotp) {
				// the password was right and the account has a second factor:
				// not an error yet, just the next question
				setNeedTotp(true);
				return;
			}
			setErr(x);
		} finally {
			setBusy(false);
		}
	};
	return (
		<main id="main" class="signin">
			<h1>Emporium admin</h1>
			<form onSubmit={submit} noValidate aria-describedby="signin-help">
				<p id="signin-help" class="muted">Sign in with your staff account.</p>
				<ErrorSummary err={err} />
				<Field label="Email" name="email" err={err}>
					<input type="email" autocomplete="username" required {...aria('email', err)} />
				</Field>
				<Field label="Password" name="password" err={err}>
					<input type="password" autocomplete="current-password" required {...aria('password', err)} />
				</Field>
				{needTotp && (
					<Field label="Authenticator code" name="totp" err={err} hint="This account has two-factor sign-in: the 6 digits your app shows, or one of your recovery codes.">
						<input autocomplete="one-time-code" maxLength={16} autoFocus {...aria('totp', err, true)} />
					</Field>
				)}
				<button type="submit" class="primary" disabled={busy}>
					{busy ? 'Signing in…' : 'Sign in'}
				</button>
			</form>
		</main>
	);
}

function Shell({ who }) {
	const route = useRoute();
	const heading = useRef(null);
	const [menu, setMenu] = useState(false);
	let found = null, params = {};
	for (const r of ROUTES) {
		const m = match(r.path, route.path);
		if (m) {
			found = r;
			params = m;
			break;
		}
	}
	const allowed = found && found.roles.includes(who.role);
	const title = !found ? 'Not found' : allowed ? found.title : 'Not allowed';
	useEffect(() => {
		document.title = `${title} · Emporium admin`;
		setMenu(false);
		// a screen change moves focus to its heading, as a page load would
		if (heading.current) heading.current.focus();
	}, [route.path, title]);
	const View = allowed ? found.view : null;
	// on a phone the screens' list folds behind a Menu button
	return (
		<div class="shell">
			<a class="skip" href="#main">
				Skip to content
			</a>
			<header class="top">
				<span class="brand">Emporium admin</span>
				<button type="button" class="menu-toggle" aria-expanded={menu ? 'true' : 'false'} aria-controls="screens" onClick={() => setMenu(!menu)}>
					Menu
				</button>
				<nav aria-label="Screens" id="screens" class={menu ? 'open' : ''}>
					<ul>
						{ROUTES.filter((r) => r.nav && r.roles.includes(who.role)).map((r) => {
							const on = r.path === '/' ? route.path === '/' : route.path.startsWith(r.path);
							return (
								<li key={r.path}>
									<Link href={r.path} aria-current={on ? 'page' : undefined}>
										{typeof r.nav === 'string' ? r.nav : r.title}
									</Link>
								</li>
							);
						})}
					</ul>
				</nav>
				<span class="who">
					<span class="role">{who.role}</span>
					<button type="button" onClick={() => logout()}>
						Sign out
					</button>
				</span>
			</header>
			<main id="main">
				<h1 tabindex="-1" ref={heading}>
					{title}
				</h1>
				{View ? (
					<View params={params} search={route.search} who={who} key={route.path} />
				) : (
					<p>{found ? 'Your role cannot open this screen.' : 'There is no such screen.'}</p>
				)}
			</main>
		</div>
	);
}

function App() {
	const [who, setWho] = useState(session());
	const [ready, setReady] = useState(false);
	useEffect(() => {
		const off = onSession(setWho);
		// a reload keeps the session through the refresh cookie
		refresh().finally(() => setReady(true));
		return off;
	}, []);
	if (!ready) return <p class="muted">Loading…</p>;
	if (!who || (who.role !== 'staff' && who.role !== 'admin')) return <SignIn />;
	return <Shell who={who} />;
}

render(<App />, document.getElementById('app'));
export { navigate };
