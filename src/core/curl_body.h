/*
 * curl_body.h - collecting an HTTP response body with libcurl, bounded.
 *
 * Every outgoing call (OIDC discovery and tokens, Cloudinary) talks to a
 * server that could answer with anything: the body is kept up to max
 * bytes, and one byte more aborts the transfer and sets overflow.
 *
 *   struct em_curl_body b = EM_CURL_BODY_INIT(512 * 1024);
 *   curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, em_curl_body_collect);
 *   curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
 *   ... b.p is NUL-terminated (NULL while empty); free(b.p) after.
 */
#ifndef EM_CORE_CURL_BODY_H
#define EM_CORE_CURL_BODY_H

#include <stdbool.h>
#include <stddef.h>

struct em_curl_body {
	char *p;
	size_t n;
	size_t max;
	bool overflow;
};

#define EM_CURL_BODY_INIT(limit) { NULL, 0, (limit), false }

struct em_config;
struct em_error;

/*
 * libcurl's global init, for a module's process_init (src/app/module.h):
 * every module that makes outgoing calls (auth's OIDC, media's Cloudinary,
 * jobs' SMTP) lists these two, so the library is initialised once per
 * process, after fork(), before any handle exists - never lazily on
 * whichever path happens to run first. libcurl counts the calls, so each
 * init is matched by its release.
 */
bool em_curl_process_init(const struct em_config *cfg, struct em_error *err);
void em_curl_process_release(void);

/* The CURLOPT_WRITEFUNCTION; ud is a struct em_curl_body. */
size_t em_curl_body_collect(char *data, size_t size, size_t nmemb, void *ud);

#endif
