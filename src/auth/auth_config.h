/*
 * auth_config.h - the auth module's configuration (its variables are
 * declared in src/auth/module.c). A header of its own so the domain files
 * (tokens.c, otp.c, ...) read it without the router's types that auth.h
 * brings.
 */
#ifndef EM_AUTH_AUTH_CONFIG_H
#define EM_AUTH_AUTH_CONFIG_H

#include "core/config.h"

/* The module's configuration (EMPORIUM_JWT_*, token lifetimes, argon2id). */
struct auth_config {
	char jwt_secret[EM_CONFIG_STR_MAX]; /* EMPORIUM_JWT_SECRET, >= 32 bytes */
	char jwt_issuer[128];               /* EMPORIUM_JWT_ISSUER */
	char jwt_audience[128];             /* EMPORIUM_JWT_AUDIENCE */
	int access_ttl_s;                   /* EMPORIUM_ACCESS_TOKEN_TTL */
	int refresh_ttl_s;                  /* EMPORIUM_REFRESH_TOKEN_TTL */
	int refresh_family_max_age_s;       /* EMPORIUM_REFRESH_FAMILY_MAX_AGE */
	int argon2_memory_kib;              /* EMPORIUM_ARGON2_MEMORY_KIB */
	int argon2_iterations;              /* EMPORIUM_ARGON2_ITERATIONS */
	char oauth_providers[256];          /* EMPORIUM_OAUTH_PROVIDERS, names */
	char admin_mfa[16];                 /* EMPORIUM_ADMIN_MFA: optional|required */
};

extern const struct em_config_section auth_config_section;

/* The auth module's values in cfg. */
static inline const struct auth_config *auth_config(const struct em_config *cfg)
{
	return em_config_section(cfg, &auth_config_section);
}

#endif
