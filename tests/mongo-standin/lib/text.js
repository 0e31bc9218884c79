'use strict';
// $text search over a collection's text index: tokenizing, English stop
// words, a Porter-style stemmer, phrases, negations, and MongoDB's scoring
// formula (fts_spec.cpp): for each field, for each distinct term,
//   freq  = sum over occurrences of 1/2^(n-1)   (repeats count less)
//   coeff = 0.5 * count/numTokens + 0.5
//   score += weight * freq * coeff
// A document's score for a query is the sum over the query's terms.
const { getPath, isDocument } = require('./types');
const { err } = require('./errors');

const STOP = new Set(('a about above after again against all am an and any are aren\'t as at be because been before being below between both but by ' +
  'can\'t cannot could couldn\'t did didn\'t do does doesn\'t doing don\'t down during each few for from further had hadn\'t has hasn\'t have ' +
  'haven\'t having he he\'d he\'ll he\'s her here here\'s hers herself him himself his how how\'s i i\'d i\'ll i\'m i\'ve if in into is isn\'t it ' +
  'it\'s its itself let\'s me more most mustn\'t my myself no nor not of off on once only or other ought our ours ourselves out over own same ' +
  'shan\'t she she\'d she\'ll she\'s should shouldn\'t so some such than that that\'s the their theirs them themselves then there there\'s these ' +
  'they they\'d they\'ll they\'re they\'ve this those through to too under until up very was wasn\'t we we\'d we\'ll we\'re we\'ve were weren\'t ' +
  'what what\'s when when\'s where where\'s which while who who\'s whom why why\'s with won\'t would wouldn\'t you you\'d you\'ll you\'re you\'ve ' +
  'your yours yourself yourselves').split(' '));

// Compact Porter stemmer (steps 1a, 1b, 1c, 2, 3, 4, 5) – close to the
// Snowball English stemmer MongoDB uses for the common cases
// (plurals, -ing, -ed, -ly, -ness, -ation ...).
function stem(w) {
  if (w.length < 3) return w;
  const cons = (s, i) => {
    const c = s[i];
    if ('aeiou'.includes(c)) return false;
    if (c === 'y') return i === 0 || !cons(s, i - 1);
    return true;
  };
  const m = (s) => { // number of VC sequences
    let n = 0, i = 0;
    const L = s.length;
    while (i < L && cons(s, i)) i++;
    while (i < L) {
      while (i < L && !cons(s, i)) i++;
      if (i >= L) break;
      n++;
      while (i < L && cons(s, i)) i++;
    }
    return n;
  };
  const hasV = (s) => { for (let i = 0; i < s.length; i++) if (!cons(s, i)) return true; return false; };
  const cvc = (s) => { const L = s.length; return L >= 3 && cons(s, L - 1) && !cons(s, L - 2) && cons(s, L - 3) && !'wxy'.includes(s[L - 1]); };
  const dbl = (s) => s.length >= 2 && s[s.length - 1] === s[s.length - 2] && cons(s, s.length - 1);
  // 1a
  if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('ies')) w = w.slice(0, -2);
  else if (w.endsWith('ss')) { /* keep */ } else if (w.endsWith('s')) w = w.slice(0, -1);
  // 1b
  let flag = false;
  if (w.endsWith('eed')) { if (m(w.slice(0, -3)) > 0) w = w.slice(0, -1); } else if (w.endsWith('ed') && hasV(w.slice(0, -2))) { w = w.slice(0, -2); flag = true; } else if (w.endsWith('ing') && hasV(w.slice(0, -3))) { w = w.slice(0, -3); flag = true; }
  if (flag) {
    if (/(at|bl|iz)$/.test(w)) w += 'e';
    else if (dbl(w) && !/[lsz]$/.test(w)) w = w.slice(0, -1);
    else if (m(w) === 1 && cvc(w)) w += 'e';
  }
  // 1c
  if (w.endsWith('y') && hasV(w.slice(0, -1))) w = w.slice(0, -1) + 'i';
  const rules = (list, minM) => {
    for (const [suf, rep] of list) {
      if (w.endsWith(suf)) { const b = w.slice(0, -suf.length); if (m(b) > minM) w = b + rep; return; }
    }
  };
  rules([['ational', 'ate'], ['tional', 'tion'], ['enci', 'ence'], ['anci', 'ance'], ['izer', 'ize'], ['abli', 'able'], ['alli', 'al'],
    ['entli', 'ent'], ['eli', 'e'], ['ousli', 'ous'], ['ization', 'ize'], ['ation', 'ate'], ['ator', 'ate'], ['alism', 'al'],
    ['iveness', 'ive'], ['fulness', 'ful'], ['ousness', 'ous'], ['aliti', 'al'], ['iviti', 'ive'], ['biliti', 'ble']], 0);
  rules([['icate', 'ic'], ['ative', ''], ['alize', 'al'], ['iciti', 'ic'], ['ical', 'ic'], ['ful', ''], ['ness', '']], 0);
  for (const suf of ['al', 'ance', 'ence', 'er', 'ic', 'able', 'ible', 'ant', 'ement', 'ment', 'ent', 'ion', 'ou', 'ism', 'ate', 'iti', 'ous', 'ive', 'ize']) {
    if (w.endsWith(suf)) {
      const b = w.slice(0, -suf.length);
      if (m(b) > 1 && (suf !== 'ion' || /[st]$/.test(b))) w = b;
      break;
    }
  }
  if (w.endsWith('e')) { const b = w.slice(0, -1); if (m(b) > 1 || (m(b) === 1 && !cvc(b))) w = b; }
  if (m(w) > 1 && dbl(w) && w.endsWith('l')) w = w.slice(0, -1);
  return w;
}

function rawTokens(s) {
  return s.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '').split(/[^\p{L}\p{N}']+/u)
    .map((t) => t.replace(/^'+|'+$/g, '')).filter(Boolean);
}

function terms(s, lang) {
  const out = [];
  for (const t of rawTokens(s)) {
    if (lang !== 'none' && STOP.has(t)) continue;
    out.push(lang === 'none' ? t : stem(t.replace(/'s$/, '')));
  }
  return out;
}

// Parse a $search string: terms, "quoted phrases", -negations.
function parseSearch(search, lang) {
  const pos = new Set(), neg = new Set(), phrases = [], negPhrases = [];
  const re = /(-?)"([^"]*)"|(\S+)/g;
  let m;
  while ((m = re.exec(search))) {
    if (m[2] !== undefined) {
      const ph = m[2].toLowerCase().trim();
      if (!ph) continue;
      if (m[1]) negPhrases.push(ph);
      else { phrases.push(ph); for (const t of terms(ph, lang)) pos.add(t); }
    } else {
      const tok = m[3];
      const isNeg = tok[0] === '-';
      for (const t of terms(isNeg ? tok.slice(1) : tok, lang)) (isNeg ? neg : pos).add(t);
    }
  }
  return { pos, neg, phrases, negPhrases };
}

function stringsOf(v, out) {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) stringsOf(x, out);
  return out;
}

function fieldTexts(doc, weights) {
  const res = [];
  for (const [f, w] of Object.entries(weights)) {
    if (f === '$**') {
      const all = [];
      const rec = (v) => { if (typeof v === 'string') all.push(v); else if (Array.isArray(v)) v.forEach(rec); else if (isDocument(v)) Object.values(v).forEach(rec); };
      rec(doc);
      for (const s of all) res.push([s, w]);
      continue;
    }
    for (const v of getPath(doc, f)) for (const s of stringsOf(v, [])) res.push([s, w]);
  }
  return res;
}

// Returns a scorer: doc -> score (0 = no match).
function compileTextSearch(index, $text) {
  if (!isDocument($text) || typeof $text.$search !== 'string') throw err('BadValue', '$search needs a String');
  for (const k of Object.keys($text)) {
    if (!['$search', '$language', '$caseSensitive', '$diacriticSensitive'].includes(k)) throw err('BadValue', `unknown operator ${k}`);
  }
  if ($text.$caseSensitive || $text.$diacriticSensitive) throw err('BadValue', 'mongo-standin: $caseSensitive/$diacriticSensitive are not implemented');
  const lang = $text.$language || index.spec.default_language || 'english';
  if (lang !== 'english' && lang !== 'none') throw err(17262, `language override unsupported: ${lang}`);
  const q = parseSearch($text.$search, lang);
  return (doc) => {
    if (!q.pos.size) return 0;
    const S = textStats(index, doc, lang);
    for (const ph of q.phrases) if (!S.some((x) => x.lower.includes(ph))) return 0;
    for (const ph of q.negPhrases) if (S.some((x) => x.lower.includes(ph))) return 0;
    let score = 0;
    let hit = false;
    // strings in document order, then the query's terms: the additions
    // (and so the floating-point sums) in the order MongoDB's formula reads
    for (const x of S) {
      for (const t of q.neg) if (x.vals.has(t)) return 0;
      for (const t of q.pos) {
        const v = x.vals.get(t);
        if (v === undefined) continue;
        hit = true;
        score += v;
      }
    }
    return hit ? score : 0;
  };
}

// Per string of a document (in field order): its lower-cased text and, per
// distinct term, weight * decayed frequency * length coefficient. Cached
// per stored document object (a write stores a new object, so the cache
// can never be stale) and per language.
function textStats(index, doc, lang) {
  if (!index.textCache) index.textCache = new WeakMap();
  let byLang = index.textCache.get(doc);
  if (!byLang) index.textCache.set(doc, (byLang = {}));
  if (byLang[lang]) return byLang[lang];
  const docLang = typeof doc[index.spec.language_override] === 'string' ? doc[index.spec.language_override] : lang;
  const L = docLang === 'none' ? 'none' : 'english';
  const out = [];
  for (const [str, w] of fieldTexts(doc, index.spec.weights)) {
    const ts = terms(str, L);
    const stats = new Map();
    for (const t of ts) {
      let st = stats.get(t);
      if (!st) stats.set(t, (st = { freq: 0, count: 0, exp: 1 }));
      st.freq += 1 / st.exp; st.exp *= 2; st.count++;
    }
    const vals = new Map();
    for (const [t, st] of stats) vals.set(t, w * st.freq * (0.5 * st.count / ts.length + 0.5));
    out.push({ lower: str.toLowerCase(), vals });
  }
  byLang[lang] = out;
  return out;
}

// The distinct terms of a document under a text index (the postings the
// planner keeps): a document can match a query only if it holds one of the
// query's positive terms, in its own language as the scorer computes them.
function docTerms(index, doc) {
  const out = new Set();
  for (const x of textStats(index, doc, index.spec.default_language || 'english')) for (const t of x.vals.keys()) out.add(t);
  return out;
}

// The positive terms of a $text query (null when it cannot be parsed: the
// scorer reports the error).
// null also when the query's $language is not the index's: the postings
// hold the index language's terms (the planner then reads every document).
function queryTerms(index, $text) {
  if (!isDocument($text) || typeof $text.$search !== 'string') return null;
  const def = index.spec.default_language || 'english';
  const lang = $text.$language || def;
  if (lang !== def) return null;
  return parseSearch($text.$search, lang).pos;
}

module.exports = { compileTextSearch, stem, terms, parseSearch, docTerms, queryTerms, fieldTexts };
