/*
 * alloc.h - allocation wrappers that never return NULL.
 *
 * On exhaustion they log and abort(): a worker process is cheap to lose,
 * the master respawns it, and not having an error path after every
 * allocation keeps the request code readable (redis and tmux do the same).
 * Library calls that allocate internally (json-c, libbson) are still
 * checked where they are made.
 */
#ifndef EM_CORE_ALLOC_H
#define EM_CORE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Copies at most len bytes of s into a new NUL-terminated string. */
char *xmemdup0(const void *s, size_t len);

#endif
