/*
 * kv.h - a list of key/value strings: what a query string, a cookie
 * header or a gateway's form parses into. Here in core, not in http/, so
 * a domain module (payments: the IPN's fields) can name it without
 * depending on the HTTP layer.
 */
#ifndef EM_CORE_KV_H
#define EM_CORE_KV_H

#include <stddef.h>

struct em_kv {
	char *key;
	char *value;
};

struct em_kv_list {
	struct em_kv *items;
	size_t n;
};

/* Frees every key, value and the array; the list is empty after. */
void em_kv_list_release(struct em_kv_list *list);
/* The first value for key, or NULL. */
const char *em_kv_list_get(const struct em_kv_list *list, const char *key);

#endif
