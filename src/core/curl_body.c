#include "core/curl_body.h"

#include <string.h>

#include "core/alloc.h"

size_t em_curl_body_collect(char *data, size_t size, size_t nmemb, void *ud)
{
	struct em_curl_body *b = ud;
	size_t len = size * nmemb;

	if (b->n + len > b->max) {
		b->overflow = true;
		return 0; /* aborts the transfer */
	}
	b->p = xrealloc(b->p, b->n + len + 1);
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n] = '\0';
	return len;
}
