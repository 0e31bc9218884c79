/*
 * oauth_internal.h - what the OpenID Connect files share; not an API for
 * other modules (that is oauth.h).
 */
#ifndef EM_AUTH_OAUTH_INTERNAL_H
#define EM_AUTH_OAUTH_INTERNAL_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

#define OAUTH_FETCH_MAX (512 * 1024)   /* discovery, JWKS, token responses */
#define OAUTH_TOKEN_MAX (16 * 1024)    /* an ID token */
#define OAUTH_TIMEOUT_MS 5000L
#define OAUTH_CONNECT_TIMEOUT_MS 3000L
#define OAUTH_CACHE_SLOTS 8
#define OAUTH_JWKS_REFETCH_MIN_S 10    /* unknown kids cannot make us hammer */

/*
 * One bounded HTTPS call (GET, or POST of the urlencoded form): *status and
 * *body (NUL-terminated, caller frees) on success (src/auth/oauth_fetch.c).
 */
bool oauth_http(const char *url, const char *form, struct curl_slist *headers,
		long *status, char **body, struct em_error *err);

/* GETs url and parses the JSON object it answers; NULL with err. */
json_object *oauth_fetch_json(const char *url, struct em_error *err);

/* The string member key of o into *out; false when absent or not a string. */
bool oauth_json_str(json_object *o, const char *key, const char **out);

/* Decodes base64url without padding; caller frees; NULL on bad input
 * (src/auth/oauth_jwk.c). */
unsigned char *oauth_b64url_decode(const char *in, size_t in_len, size_t *out_len);

#endif
