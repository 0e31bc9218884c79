/*
 * arena.h - a bump allocator for memory that lives exactly as long as one
 * request: its decoded path segments, query and cookie pairs, the
 * router's parameter copies and a handler's scratch (em_request_alloc).
 *
 * Allocation moves a pointer; em_arena_reset() gives everything back at
 * once and keeps the first chunk, so a worker that resets its arena after
 * each request calls malloc for none of these once the first request has
 * run (a detail read made twelve malloc/free pairs of its own before).
 * The arena belongs to one process: a worker makes its own after fork().
 *
 * A zeroed struct em_arena is an empty, valid arena. Like xmalloc, an
 * allocation never returns NULL: exhaustion aborts the worker.
 */
#ifndef EM_CORE_ARENA_H
#define EM_CORE_ARENA_H

#include <stddef.h>

struct em_arena_chunk;

struct em_arena {
	struct em_arena_chunk *head; /* the chunk being filled; the kept one is last */
};

/* size bytes, zeroed, aligned for any type. */
void *em_arena_alloc(struct em_arena *a, size_t size);
/* A NUL-terminated copy of len bytes of s. */
char *em_arena_memdup0(struct em_arena *a, const void *s, size_t len);
/*
 * A bigger copy of the block p (old_size bytes, from this arena; NULL:
 * none): the new bytes are zeroed, the old block is not reused. For the
 * small arrays a parser grows.
 */
void *em_arena_grow(struct em_arena *a, void *p, size_t old_size, size_t new_size);
/* Everything allocated is gone; the first chunk stays for the next use. */
void em_arena_reset(struct em_arena *a);
/* Every chunk freed: the arena is zeroed (empty, valid). */
void em_arena_release(struct em_arena *a);

#endif
