#include "core/curl_body.h"

#include <string.h>

#include <curl/curl.h>

#include "core/alloc.h"
#include "core/error.h"

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

bool em_curl_process_init(const struct em_config *cfg, struct em_error *err)
{
	(void)cfg;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libcurl cannot initialise");
		return false;
	}
	return true;
}

void em_curl_process_release(void)
{
	curl_global_cleanup();
}
