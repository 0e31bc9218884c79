/*
 * arena.c - a per-request bump allocator (see arena.h).
 */
#include "core/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

struct em_arena_chunk {
	struct em_arena_chunk *next; /* older */
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

/* The kept chunk holds a typical request (path, query, cookies: ~1 KiB);
 * later chunks double up to a cap, a larger block gets a chunk of its own. */
enum { ARENA_FIRST = 8192, ARENA_CAP = 65536, ARENA_ALIGN = alignof(max_align_t) };

void *em_arena_alloc(struct em_arena *a, size_t size)
{
	struct em_arena_chunk *c = a->head;
	size_t need, sz;
	void *p;

	if (size > SIZE_MAX / 2)
		return xmalloc(SIZE_MAX); /* aborts, reporting the size */
	need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need == 0)
		need = ARENA_ALIGN;
	if (!c || c->size - c->used < need) {
		sz = c ? c->size * 2 : ARENA_FIRST;
		if (sz > ARENA_CAP)
			sz = ARENA_CAP;
		if (sz < need)
			sz = need;
		c = xmalloc(sizeof(*c) + sz);
		c->size = sz;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += need;
	memset(p, 0, size);
	return p;
}

char *em_arena_memdup0(struct em_arena *a, const void *s, size_t len)
{
	char *p = em_arena_alloc(a, len + 1);

	if (len)
		memcpy(p, s, len);
	return p;
}

void *em_arena_grow(struct em_arena *a, void *p, size_t old_size, size_t new_size)
{
	void *q = em_arena_alloc(a, new_size);

	if (p && old_size)
		memcpy(q, p, old_size < new_size ? old_size : new_size);
	return q;
}

void em_arena_reset(struct em_arena *a)
{
	struct em_arena_chunk *c = a->head;

	while (c && c->next) {
		struct em_arena_chunk *older = c->next;

		free(c);
		c = older;
	}
	a->head = c;
	if (c)
		c->used = 0;
}

void em_arena_release(struct em_arena *a)
{
	em_arena_reset(a);
	free(a->head);
	a->head = NULL;
}
