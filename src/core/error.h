/*
 * error.h - the error every fallible function fills in.
 *
 * Functions return bool and, on false, describe what went wrong in a
 * caller-provided struct em_error (the bson_error_t pattern). The kind says
 * what sort of failure it is; only src/http/ turns a kind into an HTTP
 * status and a problem+json body, so domain code never knows about HTTP.
 */
#ifndef EM_CORE_ERROR_H
#define EM_CORE_ERROR_H

#include <stdbool.h>
#include <stddef.h>

enum em_error_kind {
	EM_ERR_NONE = 0,
	EM_ERR_INVALID,        /* bad input: a field, a parameter, a body */
	EM_ERR_UNAUTHENTICATED,/* no or bad credentials */
	EM_ERR_FORBIDDEN,      /* authenticated, but not allowed */
	EM_ERR_NOT_FOUND,
	EM_ERR_METHOD,         /* path exists, method does not */
	EM_ERR_CONFLICT,       /* unique key, state machine */
	EM_ERR_UNPROCESSABLE,  /* well-formed, but breaks a rule (422) */
	EM_ERR_PRECONDITION,   /* If-Match on a stale version */
	EM_ERR_PRECONDITION_REQUIRED, /* If-Match missing where it is required (428) */
	EM_ERR_TOO_LARGE,      /* body over the limit */
	EM_ERR_URI_TOO_LONG,
	EM_ERR_MEDIA_TYPE,     /* wrong Content-Type */
	EM_ERR_RATE_LIMITED,   /* retry_after_s says when to come back */
	EM_ERR_UNAVAILABLE,    /* a dependency (MongoDB) is down */
	EM_ERR_BAD_GATEWAY,    /* an upstream service (storage, gateway) failed (502) */
	EM_ERR_INTERNAL,       /* a bug or an unexpected library failure */
};

struct em_error {
	enum em_error_kind kind;
	char field[64];    /* the input field at fault, "" when none */
	char message[256]; /* for humans; never holds secrets */
	int retry_after_s; /* EM_ERR_RATE_LIMITED / UNAVAILABLE: Retry-After, 0 = 1 s */
};

#define EM_ERROR_INIT { EM_ERR_NONE, "", "", 0 }

/* Sets kind, field (may be NULL) and a printf-style message; truncates. */
void em_error_set(struct em_error *err, enum em_error_kind kind,
		  const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Resets err to EM_ERROR_INIT. */
void em_error_clear(struct em_error *err);

/* A short stable name for a kind ("invalid", "not_found", ...). */
const char *em_error_kind_name(enum em_error_kind kind);

#endif
