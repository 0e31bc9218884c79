'use strict';
// A sorted list of index entries kept in chunks of at most 2*CHUNK entries
// (Python's SortedList idea): insert/remove cost a binary search plus a
// splice inside one chunk, so index maintenance stays cheap at 10^5
// entries, and a range scan is a seek plus a walk. cmp(a, b) orders
// entries totally (an entry never compares equal to another one).
const CHUNK = 256;

class SortedList {
  constructor(cmp) {
    this.cmp = cmp;
    this.chunks = [];
    this.size = 0;
  }

  // Replace the contents with entries (any order): one sort, for builds.
  load(entries) {
    entries.sort(this.cmp);
    this.chunks = [];
    for (let i = 0; i < entries.length; i += CHUNK) this.chunks.push(entries.slice(i, i + CHUNK));
    this.size = entries.length;
  }

  // Index of the first chunk whose last entry is not before target
  // (before(e) true when e sorts before the target position).
  chunkFor(before) {
    let lo = 0, hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[mid];
      if (before(c[c.length - 1])) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  // Position {c, i} of the first entry e with !before(e) (c = chunks.length: end).
  seek(before) {
    const c = this.chunkFor(before);
    if (c >= this.chunks.length) return { c, i: 0 };
    const ch = this.chunks[c];
    let lo = 0, hi = ch.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(ch[mid])) lo = mid + 1; else hi = mid;
    }
    return { c, i: lo };
  }

  // Rank (number of entries before) of a position.
  rank(pos) {
    let n = 0;
    for (let k = 0; k < pos.c && k < this.chunks.length; k++) n += this.chunks[k].length;
    return n + pos.i;
  }

  insert(e) {
    const cmp = this.cmp;
    if (!this.chunks.length) { this.chunks.push([e]); this.size = 1; return; }
    let c = this.chunkFor((x) => cmp(x, e) < 0);
    if (c >= this.chunks.length) c = this.chunks.length - 1;
    const ch = this.chunks[c];
    let lo = 0, hi = ch.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cmp(ch[mid], e) < 0) lo = mid + 1; else hi = mid; }
    ch.splice(lo, 0, e);
    this.size++;
    if (ch.length > 2 * CHUNK) this.chunks.splice(c, 1, ch.slice(0, CHUNK), ch.slice(CHUNK));
  }

  // Remove the entry comparing equal to e; false when absent.
  remove(e) {
    const cmp = this.cmp;
    const pos = this.seek((x) => cmp(x, e) < 0);
    const ch = this.chunks[pos.c];
    if (!ch || pos.i >= ch.length || cmp(ch[pos.i], e) !== 0) return false;
    ch.splice(pos.i, 1);
    this.size--;
    if (!ch.length) this.chunks.splice(pos.c, 1);
    return true;
  }

  // Entries from pos forward (dir 1) or, from the entry before pos, backward (dir -1).
  * walk(pos, dir) {
    let { c, i } = pos;
    if (dir > 0) {
      for (; c < this.chunks.length; c++, i = 0) {
        const ch = this.chunks[c];
        for (; i < ch.length; i++) yield ch[i];
      }
      return;
    }
    // backward: start just before pos
    i--;
    for (;;) {
      while (i < 0) { c--; if (c < 0) return; i = this.chunks[c].length - 1; }
      if (c >= this.chunks.length) { c = this.chunks.length - 1; if (c < 0) return; i = this.chunks[c].length - 1; continue; }
      yield this.chunks[c][i];
      i--;
    }
  }

  * all() { for (const ch of this.chunks) yield* ch; }
}

module.exports = { SortedList };
