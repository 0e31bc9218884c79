/*
 * kv.c - key/value string lists (kv.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/kv.h"

void em_kv_list_release(struct em_kv_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->items[i].key);
		free(list->items[i].value);
	}
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

const char *em_kv_list_get(const struct em_kv_list *list, const char *key)
{
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->items[i].key, key) == 0)
			return list->items[i].value;
	return NULL;
}
