/*
 * oauth_provider.c - OpenID Connect provider configuration (EMPORIUM_OAUTH_<NAME>_*)
 * and the URL policy for every outgoing call (https, or loopback for tests).
 */
#include <ctype.h>
#include <curl/curl.h>
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/accounts.h"
#include "auth/auth.h"
#include "auth/oauth.h"
#include "auth/oauth_internal.h"
#include "core/alloc.h"
#include "core/curl_body.h"
#include "core/json.h"
#include "core/log.h"

/* ---- provider configuration ---- */

static bool oauth_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > OAUTH_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
			return false;
	return true;
}

/* True when name is one of the space-separated words of list. */
static bool oauth_name_listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p;) {
		size_t w;

		while (*p == ' ' || *p == '\t')
			p++;
		w = strcspn(p, " \t");
		if (w == n && strncmp(p, name, n) == 0)
			return true;
		p += w;
	}
	return false;
}

static bool oauth_setting(const struct em_config *cfg, const char *name, const char *what,
			  char *out, size_t size, struct em_error *err)
{
	char var[96];

	snprintf(var, sizeof(var), "EMPORIUM_OAUTH_%s_%s", name, what);
	for (char *p = var; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (!em_config_lookup(cfg, var, out, size) || !out[0]) {
		em_err("oauth provider %s: %s is not set (or too long)", name, var);
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL,
			     "sign-in with this provider is not available right now");
		return false;
	}
	return true;
}

bool oauth_provider_load(const struct em_config *cfg, const char *name,
			 struct oauth_provider *p, struct em_error *err)
{
	size_t base;

	memset(p, 0, sizeof(*p));
	if (!name || !oauth_name_valid(name) || !oauth_name_listed(auth_config(cfg)->oauth_providers, name)) {
		em_error_set(err, EM_ERR_NOT_FOUND, NULL, "no such sign-in provider");
		return false;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (!oauth_setting(cfg, name, "ISSUER", p->issuer, sizeof(p->issuer), err) ||
	    !oauth_setting(cfg, name, "CLIENT_ID", p->client_id, sizeof(p->client_id), err) ||
	    !oauth_setting(cfg, name, "CLIENT_SECRET", p->client_secret,
			   sizeof(p->client_secret), err))
		return false;
	if (!oauth_url_allowed(p->issuer)) {
		em_err("oauth provider %s: the issuer must be https:// (or http:// to a "
		       "loopback address)", name);
		em_error_set(err, EM_ERR_UNAVAILABLE, NULL,
			     "sign-in with this provider is not available right now");
		return false;
	}
	base = strlen(cfg->public_url);
	while (base > 0 && cfg->public_url[base - 1] == '/')
		base--;
	if ((size_t)snprintf(p->redirect_uri, sizeof(p->redirect_uri),
			     "%.*s/api/v1/auth/oauth/%s/callback", (int)base, cfg->public_url,
			     name) >= sizeof(p->redirect_uri)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "the redirect URI is too long");
		return false;
	}
	return true;
}

/* ---- URLs ---- */

bool oauth_url_allowed(const char *url)
{
	static const char *const loopback[] = { "127.0.0.1", "localhost", "[::1]" };
	const char *auth;
	size_t alen;

	if (!url)
		return false;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return false;
	if (strncmp(url, "https://", 8) == 0)
		auth = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		auth = url + 7;
	else
		return false;
	alen = strcspn(auth, "/?#");
	if (alen == 0 || memchr(auth, '@', alen) || memchr(auth, '\\', alen))
		return false;
	if (auth == url + 8)
		return true;
	/* Plain http only where no network can sit between us and the provider. */
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		size_t hl = strlen(loopback[i]);

		if (alen >= hl && strncmp(auth, loopback[i], hl) == 0) {
			if (alen == hl)
				return true;
			if (auth[hl] != ':' || alen == hl + 1 || alen - hl - 1 > 5)
				return false;
			for (size_t k = hl + 1; k < alen; k++)
				if (!isdigit((unsigned char)auth[k]))
					return false;
			return true;
		}
	}
	return false;
}
