// router.jsx - a small history-API router under /admin/ (nginx answers
// every /admin/<path> with index.html, so deep links and reloads work).
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/admin';

function current() {
	const p = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '/';
	return { path: p || '/', search: new URLSearchParams(location.search) };
}

const subs = new Set();
export function navigate(to, { replace = false } = {}) {
	const url = to.startsWith(BASE) ? to : BASE + to;
	if (replace) history.replaceState(null, '', url);
	else history.pushState(null, '', url);
	for (const fn of subs) fn(current());
}

export function useRoute() {
	const [r, setR] = useState(current);
	useEffect(() => {
		const on = () => setR(current());
		subs.add(setR);
		addEventListener('popstate', on);
		return () => {
			subs.delete(setR);
			removeEventListener('popstate', on);
		};
	}, []);
	return r;
}

// match('/products/:id', '/products/42') -> {id: '42'} or null
export function match(pattern, path) {
	const a = pattern.split('/').filter(Boolean), b = path.split('/').filter(Boolean);
	if (a.length !== b.length) return null;
	const out = {};
	for (let i = 0; i < a.length; i++) {
		if (a[i].startsWith(':')) out[a[i].slice(1)] = decodeURIComponent(b[i]);
		else if (a[i] !== b[i]) return null;
	}
	return out;
}

export function Link({ href, children, ...rest }) {
	const onClick = (e) => {
		if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
		e.preventDefault();
		navigate(href);
	};
	return (
		<a href={BASE + href} onClick={onClick} {...rest}>
			{children}
		</a>
	);
}
