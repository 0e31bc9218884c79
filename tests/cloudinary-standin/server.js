#!/usr/bin/env node
// cloudinary-standin: a test server for Cloudinary's signed Upload API
// (image upload and destroy), following Cloudinary's documentation:
//   https://cloudinary.com/documentation/image_upload_api_reference
//   https://cloudinary.com/documentation/authentication_signatures
// No npm dependencies (Node >= 18). See README.md.
//
//   node server.js --port 0 --cloud demo --api-key 1234 --api-secret abcd --dir DIR
// prints one line when listening:
//   cloudinary-standin ready on 127.0.0.1:PORT
'use strict';

const http = require('http');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const args = { port: '0', host: '127.0.0.1', cloud: 'demo', 'api-key': '1234',
	'api-secret': 'abcd', dir: '', 'max-bytes': String(20 * 1024 * 1024) };
for (let i = 2; i < process.argv.length; i += 2) {
	const k = process.argv[i].replace(/^--/, '');
	if (!(k in args) || i + 1 >= process.argv.length) {
		console.error(`usage: server.js [--port P] [--host H] [--cloud C] [--api-key K] [--api-secret S] [--dir D]`);
		process.exit(2);
	}
	args[k] = process.argv[i + 1];
}
const dir = args.dir || fs.mkdtempSync(path.join(require('os').tmpdir(), 'cld-standin-'));
const maxBytes = Number(args['max-bytes']);
let base = '';

// ---- request bodies: multipart/form-data and x-www-form-urlencoded ----

function parseMultipart(buf, contentType) {
	const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
	if (!m) return null;
	const delim = Buffer.from('\r\n--' + (m[1] || m[2]));
	const fields = {}, files = {};
	// The body starts with "--boundary" (no CRLF before the first one).
	let pos = buf.indexOf(delim.subarray(2));
	if (pos < 0) return null;
	pos += delim.length - 2;
	for (;;) {
		if (buf.subarray(pos, pos + 2).toString() === '--') return { fields, files };
		if (buf.subarray(pos, pos + 2).toString() !== '\r\n') return null;
		pos += 2;
		const hdrEnd = buf.indexOf('\r\n\r\n', pos);
		if (hdrEnd < 0) return null;
		const headers = buf.subarray(pos, hdrEnd).toString('latin1');
		const next = buf.indexOf(delim, hdrEnd + 4);
		if (next < 0) return null;
		const data = buf.subarray(hdrEnd + 4, next);
		const cd = /content-disposition:\s*form-data;([^\r\n]*)/i.exec(headers);
		if (!cd) return null;
		const name = /\bname="([^"]*)"/i.exec(cd[1]) || /\bname=([^;\s]+)/i.exec(cd[1]);
		if (!name) return null;
		const filename = /\bfilename="([^"]*)"/i.exec(cd[1]);
		if (filename) files[name[1]] = { data, filename: filename[1] };
		else fields[name[1]] = data.toString('utf8');
		pos = next + delim.length;
	}
}

function readBody(req) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		let n = 0;
		req.on('data', (c) => {
			n += c.length;
			if (n > maxBytes) { reject(new Error('too large')); req.destroy(); return; }
			chunks.push(c);
		});
		req.on('end', () => resolve(Buffer.concat(chunks)));
		req.on('error', reject);
	});
}

// ---- what Cloudinary checks ----

// The documented string to sign: every parameter but file, cloud_name,
// resource_type and api_key (and the signature itself), sorted by name,
// k=v joined with '&', then the API secret; SHA-1 hex, or SHA-256 hex when
// signature_algorithm=sha256.
function expectedSignature(params, secret) {
	const excluded = new Set(['file', 'cloud_name', 'resource_type', 'api_key', 'signature']);
	const str = Object.keys(params).filter((k) => !excluded.has(k) && params[k] !== '')
		.sort().map((k) => `${k}=${params[k]}`).join('&') + secret;
	const algo = params.signature_algorithm === 'sha256' ? 'sha256' : 'sha1';
	return crypto.createHash(algo).update(str).digest('hex');
}

function timingSafeEqualHex(a, b) {
	const x = Buffer.from(String(a)), y = Buffer.from(String(b));
	return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// Returns null when the request is authentic, else [status, message].
function authenticate(params) {
	if (!params.api_key) return [401, 'Must supply api_key'];
	if (params.api_key !== args['api-key']) return [401, `Unknown API key ${params.api_key}`];
	if (!params.timestamp) return [401, 'Missing required parameter - timestamp'];
	if (!/^\d+$/.test(params.timestamp)) return [401, 'Invalid timestamp'];
	const age = Math.floor(Date.now() / 1000) - Number(params.timestamp);
	if (age > 3600)
		return [401, `Stale request - reported time is ${params.timestamp} which is more than 1 hour ago`];
	if (!params.signature) return [401, 'Missing required parameter - signature'];
	const want = expectedSignature(params, args['api-secret']);
	if (!timingSafeEqualHex(params.signature.toLowerCase(), want)) {
		const excluded = new Set(['file', 'cloud_name', 'resource_type', 'api_key', 'signature']);
		const str = Object.keys(params).filter((k) => !excluded.has(k) && params[k] !== '')
			.sort().map((k) => `${k}=${params[k]}`).join('&');
		return [401, `Invalid Signature ${params.signature}. String to sign - '${str}'.`];
	}
	return null;
}

// Image type and dimensions, as Cloudinary reports them (PNG, JPEG, WebP).
function imageInfo(b) {
	if (b.length > 24 && b.readUInt32BE(0) === 0x89504e47 && b.subarray(12, 16).toString() === 'IHDR')
		return { format: 'png', width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
	if (b.length > 4 && b[0] === 0xff && b[1] === 0xd8) {
		let off = 2;
		while (off + 9 < b.length) {
			if (b[off] !== 0xff) return null;
			const m = b[off + 1];
			if (m === 0xff) { off++; continue; }
			if (m >= 0xc0 && m <= 0xc2)
				return { format: 'jpg', height: b.readUInt16BE(off + 5), width: b.readUInt16BE(off + 7) };
			off += 2 + b.readUInt16BE(off + 2);
		}
		return null;
	}
	if (b.length > 30 && b.subarray(0, 4).toString() === 'RIFF' && b.subarray(8, 12).toString() === 'WEBP') {
		const fourcc = b.subarray(12, 16).toString();
		if (fourcc === 'VP8X')
			return { format: 'webp', width: b.readUIntLE(24, 3) + 1, height: b.readUIntLE(27, 3) + 1 };
		if (fourcc === 'VP8L') {
			const bits = b.readUInt32LE(21);
			return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
		}
		if (fourcc === 'VP8 ')
			return { format: 'webp', width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
	}
	return null;
}

const contentTypes = { png: 'image/png', jpg: 'image/jpeg', webp: 'image/webp' };

function send(res, status, obj) {
	const body = JSON.stringify(obj);
	res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8',
		'Content-Length': Buffer.byteLength(body) });
	res.end(body);
}

function fail(res, status, message) {
	send(res, status, { error: { message } });
}

// public_id -> { version, format, file }
const assets = new Map();

function validPublicId(id) {
	return /^[A-Za-z0-9_-][A-Za-z0-9_./-]{0,254}$/.test(id) && !id.includes('..');
}

async function upload(req, res, params, files) {
	const file = files.file;
	if (!file && !params.file) return fail(res, 400, 'Missing required parameter - file');
	if (!file) return fail(res, 400, 'Only file uploads are supported by the stand-in');
	const info = imageInfo(file.data);
	if (!info) return fail(res, 400, 'Invalid image file');
	const publicId = params.public_id || crypto.randomBytes(10).toString('hex');
	if (!validPublicId(publicId)) return fail(res, 400, 'Invalid public_id');
	const version = Math.floor(Date.now() / 1000);
	const rel = path.join(args.cloud, 'image', 'upload', `v${version}`, `${publicId}.${info.format}`);
	const abs = path.join(dir, rel);
	fs.mkdirSync(path.dirname(abs), { recursive: true });
	fs.writeFileSync(abs + '.tmp', file.data);
	fs.renameSync(abs + '.tmp', abs);
	const old = assets.get(publicId);
	if (old && old.file !== abs) fs.rmSync(old.file, { force: true });
	assets.set(publicId, { version, format: info.format, file: abs });
	const urlPath = `/${args.cloud}/image/upload/v${version}/${publicId}.${info.format}`;
	send(res, 200, {
		asset_id: crypto.createHash('md5').update(publicId).digest('hex'),
		public_id: publicId,
		version,
		version_id: crypto.randomBytes(16).toString('hex'),
		signature: crypto.createHash('sha1')
			.update(`public_id=${publicId}&version=${version}${args['api-secret']}`).digest('hex'),
		width: info.width,
		height: info.height,
		format: info.format,
		resource_type: 'image',
		created_at: new Date(version * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
		tags: [],
		bytes: file.data.length,
		type: 'upload',
		etag: crypto.createHash('md5').update(file.data).digest('hex'),
		placeholder: false,
		url: base + urlPath,
		// The stand-in speaks plain HTTP; Cloudinary's secure_url is https.
		secure_url: base + urlPath,
		original_filename: path.parse(file.filename || 'file').name,
	});
}

function destroy(req, res, params) {
	if (!params.public_id) return fail(res, 400, 'Missing required parameter - public_id');
	const a = assets.get(params.public_id);
	if (!a) return send(res, 200, { result: 'not found' });
	fs.rmSync(a.file, { force: true });
	assets.delete(params.public_id);
	send(res, 200, { result: 'ok' });
}

function serveAsset(req, res, urlPath) {
	const m = /^\/([^/]+)\/image\/upload\/v(\d+)\/(.+)\.(png|jpg|webp)$/.exec(urlPath);
	if (!m || m[1] !== args.cloud) return false;
	const a = assets.get(m[3]);
	if (!a || String(a.version) !== m[2] || a.format !== m[4]) return false;
	const data = fs.readFileSync(a.file);
	res.writeHead(200, { 'Content-Type': contentTypes[a.format], 'Content-Length': data.length });
	res.end(req.method === 'HEAD' ? undefined : data);
	return true;
}

const server = http.createServer(async (req, res) => {
	try {
		const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
		if (req.method === 'GET' || req.method === 'HEAD') {
			if (urlPath === '/_standin/assets')
				return send(res, 200, { assets: [...assets.keys()] });
			if (!serveAsset(req, res, urlPath)) fail(res, 404, 'Resource not found');
			return;
		}
		const m = /^\/v1_1\/([^/]+)\/image\/(upload|destroy)$/.exec(urlPath);
		if (req.method !== 'POST' || !m) return fail(res, 404, 'Resource not found');
		if (m[1] !== args.cloud) return fail(res, 401, `Invalid cloud_name ${m[1]}`);
		const body = await readBody(req);
		const ct = req.headers['content-type'] || '';
		let params = {}, files = {};
		if (/^multipart\/form-data/i.test(ct)) {
			const mp = parseMultipart(body, ct);
			if (!mp) return fail(res, 400, 'Malformed multipart body');
			params = mp.fields;
			files = mp.files;
		} else if (/^application\/x-www-form-urlencoded/i.test(ct)) {
			params = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
		} else {
			return fail(res, 400, 'Unsupported content type');
		}
		const refused = authenticate(params);
		if (refused) {
			console.error(`refused ${m[2]}: ${refused[1]}`);
			return fail(res, refused[0], refused[1]);
		}
		if (m[2] === 'upload') await upload(req, res, params, files);
		else destroy(req, res, params);
	} catch (e) {
		console.error(e);
		if (!res.headersSent) fail(res, 500, 'General Error');
	}
});

server.listen(Number(args.port), args.host, () => {
	const { port } = server.address();
	base = `http://${args.host}:${port}`;
	console.log(`cloudinary-standin ready on ${args.host}:${port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
