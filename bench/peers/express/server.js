// bench/peers/express/server.js - the peer bench/catalog measures the
// FastCGI pool against: Express 4 and the official MongoDB driver serving
// the same public product detail and list from the same database, behind
// the same nginx (proxy_pass over a unix socket). It does what the C
// handler does per request: the same queries (the detail's one find; the
// list's category read, then the aggregate with $match, $sort, $limit),
// the same public view (id, category, no stock figures, in_stock,
// low_stock_left), the same Cache-Control. Not part of the product.
//
//   MONGODB_URI=... DB_NAME=... LOW_STOCK_PUBLIC=5 node server.js SOCKET_PATH
'use strict';
const express = require('express');
const fs = require('fs');
const { MongoClient, ObjectId } = require('mongodb');

const sock = process.argv[2];
const low = Number(process.env.LOW_STOCK_PUBLIC || 5);
const client = new MongoClient(process.env.MONGODB_URI);
const db = client.db(process.env.DB_NAME || 'emporium');
const products = db.collection('products');
const categories = db.collection('categories');

const hidden = new Set(['_id', 'category_id', 'stock_rev', 'search_text', '_sold', 'deleted_at',
  'deleted_by', 'created_by', 'updated_by', 'total_stock', 'version', 'sold_units', '_score']);
const publicUrl = (process.env.PUBLIC_URL || '').replace(/\/+$/, '');
const absolute = (u) => (typeof u === 'string' && u[0] === '/' && u[1] !== '/' ? publicUrl + u : u);
const variantHidden = new Set(['stock', 'low_stock_alerts', 'low_stock', 'low_stock_threshold']);

function iso(v) { return v instanceof Date ? v.toISOString() : v; }
function plain(v) {
  if (v instanceof ObjectId) return v.toHexString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    if (typeof v.toNumber === 'function') return v.toNumber(); // Long
    const o = {};
    for (const k of Object.keys(v)) o[k] = plain(v[k]);
    return o;
  }
  return v;
}

// the category index catalog_public_view_init reads per request: id -> {id, slug, name, path}
async function categoryIndex() {
  const rows = await categories.find({}, { sort: { position: 1, name: 1, _id: 1 }, limit: 1000 }).toArray();
  const byId = new Map(rows.map((r) => [r._id.toHexString(), r]));
  const ref = (r) => ({ id: r._id.toHexString(), slug: typeof r.slug === 'string' ? r.slug : '',
    name: typeof r.name === 'string' ? r.name : '' });
  const index = new Map();
  for (const r of rows) {
    const chain = [];
    for (let c = r; c && chain.length < 64 && !chain.includes(c); c = c.parent_id ? byId.get(c.parent_id.toHexString()) : null)
      chain.push(c);
    index.set(r._id.toHexString(), { ...ref(r), path: chain.reverse().map(ref) });
  }
  return { index, rows, byId };
}

function publicProduct(doc, view) {
  const o = {};
  for (const k of Object.keys(doc)) {
    if (hidden.has(k)) continue;
    if (k === 'images' && Array.isArray(doc.images)) {
      o.images = doc.images.map((im) => {
        const pi = {};
        for (const ik of Object.keys(im)) if (ik !== 'storage' && ik !== 'public_id') pi[ik] = ik === 'url' ? absolute(im.url) : plain(im[ik]);
        return pi;
      });
      continue;
    }
    if (k === 'variants' && Array.isArray(doc.variants)) {
      o.variants = doc.variants.map((v) => {
        const pv = {};
        for (const vk of Object.keys(v)) if (!variantHidden.has(vk)) pv[vk] = plain(v[vk]);
        const n = typeof v.stock === 'number' ? v.stock : 0;
        pv.in_stock = n > 0;
        pv.low_stock_left = n > 0 && n <= low ? n : null;
        return pv;
      });
      continue;
    }
    o[k] = plain(doc[k]);
  }
  if ('_id' in doc) o.id = plain(doc._id);
  if ('category_id' in doc) o.category = plain(doc.category_id);
  o.in_stock = Number(doc.total_stock) > 0;
  let first = null;
  for (const im of o.images || []) if (!first || Number(im.position || 0) < Number(first.position || 0)) first = im;
  o.image = first ? { url: first.url ?? null, alt: first.alt ?? null, width: first.width ?? null, height: first.height ?? null } : null;
  const ref = o.category ? view.index.get(String(o.category)) : null;
  o.category_info = ref ? { id: ref.id, slug: ref.slug, name: ref.name } : null;
  if (view.detail) o.breadcrumbs = ref ? ref.path : [];
  return o;
}

const app = express();
app.disable('x-powered-by');

app.get('/api/v1/products/:id', async (req, res, next) => {
  try {
    const id = req.params.id;
    const filter = { status: 'active', deleted_at: null };
    if (/^[0-9a-f]{24}$/.test(id)) filter.$or = [{ _id: new ObjectId(id) }, { slug: id }];
    else filter.slug = id;
    const doc = await products.findOne(filter);
    if (!doc) return res.status(404).type('application/problem+json').send({ type: 'about:blank', title: 'Not Found', status: 404 });
    const { index } = await categoryIndex();
    res.set('Cache-Control', 'public, max-age=5').json(publicProduct(doc, { index, detail: true }));
  } catch (e) { next(e); }
});

// the category and everything below it, as catalog_category_subtree walks parent_id
function subtree(cats, slug) {
  const { rows, byId } = cats;
  const root = rows.find((r) => r.slug === slug);
  if (!root) return null;
  const below = (r) => {
    for (let steps = 0; r && steps <= rows.length; steps++) {
      if (r._id.equals(root._id)) return true;
      r = r.parent_id ? byId.get(r.parent_id.toHexString()) : null;
    }
    return false;
  };
  return rows.filter(below).map((r) => r._id);
}

app.get('/api/v1/products', async (req, res, next) => {
  try {
    const limit = Math.min(Number(req.query.limit || 20), 100);
    const match = { status: 'active', deleted_at: null };
    const cats = await categoryIndex();
    if (req.query.category) {
      const ids = subtree(cats, String(req.query.category));
      if (!ids) return res.status(400).type('application/problem+json').send({ type: 'about:blank', title: 'Bad Request', status: 400 });
      match.category_id = { $in: ids };
    }
    if (req.query.size) match.variants = { $elemMatch: { 'options.size': String(req.query.size) } };
    const sort = req.query.sort === 'price_asc' ? { min_price: 1, _id: 1 } : { created_at: -1, _id: -1 };
    const docs = await products.aggregate([{ $match: match }, { $sort: sort }, { $limit: limit + 1 }]).toArray();
    const more = docs.length > limit;
    const items = docs.slice(0, limit).map((d) => publicProduct(d, { index: cats.index, detail: false }));
    let next = null;
    if (more) {
      const last = docs[limit - 1];
      const key = req.query.sort === 'price_asc' ? `a:${last.min_price}` : `n:${iso(last.created_at).valueOf()}`;
      next = Buffer.from(`${key}:${last._id.toHexString()}`).toString('base64url');
    }
    res.set('Cache-Control', 'public, max-age=5').json({ items, next_cursor: next });
  } catch (e) { next(e); }
});

app.get('/api/v1/health', (req, res) => res.json({ status: 'ok' }));

client.connect().then(() => {
  try { fs.unlinkSync(sock); } catch (e) { /* none */ }
  app.listen(sock, () => {
    fs.chmodSync(sock, 0o666);
    console.log(`express peer ready on ${sock}`);
  });
}).catch((e) => { console.error(e); process.exit(1); });
