// money.js - prices are integer minor units on the wire; staff type them
// as decimals ("12.50"). Converted as strings, never through floating
// point, so 0.1 + 0.2 problems cannot reach a price.
export const MINOR_DIGITS = 2;

// "12.5" -> 1250; null for text that is not a non-negative decimal with
// at most MINOR_DIGITS fraction digits.
export function toMinor(text) {
	const s = String(text).trim();
	const m = /^(\d{1,13})(?:\.(\d{0,2}))?$/.exec(s);
	if (!m) return null;
	const frac = (m[2] || '').padEnd(MINOR_DIGITS, '0');
	return Number(m[1]) * 100 + Number(frac);
}

// 1250 -> "12.50"
export function fromMinor(n) {
	if (n === null || n === undefined || !Number.isInteger(n)) return '';
	const neg = n < 0 ? '-' : '';
	const a = Math.abs(n);
	return `${neg}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

export function formatMoney(n, currency) {
	return n === null || n === undefined ? '' : `${fromMinor(n)} ${currency || ''}`.trim();
}
