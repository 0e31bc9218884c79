#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool error_kind_is_validation(enum em_error_kind kind)
{
	return kind == EM_ERR_INVALID || kind == EM_ERR_UNPROCESSABLE;
}

static const char *error_kind_code(enum em_error_kind kind)
{
	switch (kind) {
	case EM_ERR_UNPROCESSABLE: return EM_CODE_RULE;
	case EM_ERR_CONFLICT: return EM_CODE_CONFLICT;
	default: return EM_CODE_INVALID;
	}
}

/* Whether err already names field (one error per field is enough: a
 * missing value is not also too short). */
static bool error_has_field(const struct em_error *err, const char *field)
{
	unsigned i;

	if (!field || !*field)
		return false;
	if (strcmp(err->field, field) == 0)
		return true;
	for (i = 0; i < err->n_more; i++)
		if (strcmp(err->more[i].field, field) == 0)
			return true;
	return false;
}

static void error_vset(struct em_error *err, enum em_error_kind kind, const char *field,
		       const char *code, const char *fmt, va_list ap)
{
	if (!err)
		return;
	if (err->collect && error_kind_is_validation(err->kind) &&
	    error_kind_is_validation(kind)) {
		struct em_field_error *e;

		/* A malformed field makes the whole request malformed. */
		if (kind == EM_ERR_INVALID)
			err->kind = EM_ERR_INVALID;
		if (error_has_field(err, field))
			return;
		if (err->n_more >= EM_ERROR_MORE_MAX) {
			err->n_dropped++;
			return;
		}
		e = &err->more[err->n_more++];
		snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
		snprintf(e->code, sizeof(e->code), "%s", code ? code : error_kind_code(kind));
		vsnprintf(e->message, sizeof(e->message), fmt, ap);
		return;
	}
	err->kind = kind;
	err->retry_after_s = 0;
	err->n_more = 0;
	err->n_dropped = 0;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	snprintf(err->code, sizeof(err->code), "%s", code ? code : "");
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

void em_error_set(struct em_error *err, enum em_error_kind kind,
		  const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, kind, field, NULL, fmt, ap);
	va_end(ap);
}

void em_error_setc(struct em_error *err, enum em_error_kind kind, const char *field,
		   const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, kind, field, code, fmt, ap);
	va_end(ap);
}

void em_error_collect(struct em_error *err)
{
	if (err)
		err->collect = true;
}

bool em_error_collect_end(struct em_error *err)
{
	if (!err)
		return true;
	err->collect = false;
	return err->kind == EM_ERR_NONE;
}

const char *em_error_code(const struct em_error *err)
{
	return err->code[0] ? err->code : error_kind_code(err->kind);
}

void em_error_clear(struct em_error *err)
{
	if (!err)
		return;
	err->kind = EM_ERR_NONE;
	err->field[0] = '\0';
	err->message[0] = '\0';
	err->code[0] = '\0';
	err->retry_after_s = 0;
	err->collect = false;
	err->n_more = 0;
	err->n_dropped = 0;
}

const char *em_error_kind_name(enum em_error_kind kind)
{
	static const char *const names[] = {
		[EM_ERR_NONE] = "none",
		[EM_ERR_INVALID] = "invalid",
		[EM_ERR_UNAUTHENTICATED] = "unauthenticated",
		[EM_ERR_FORBIDDEN] = "forbidden",
		[EM_ERR_NOT_FOUND] = "not_found",
		[EM_ERR_METHOD] = "method_not_allowed",
		[EM_ERR_CONFLICT] = "conflict",
		[EM_ERR_UNPROCESSABLE] = "unprocessable",
		[EM_ERR_PRECONDITION] = "precondition_failed",
		[EM_ERR_PRECONDITION_REQUIRED] = "precondition_required",
		[EM_ERR_TOO_LARGE] = "too_large",
		[EM_ERR_URI_TOO_LONG] = "uri_too_long",
		[EM_ERR_MEDIA_TYPE] = "unsupported_media_type",
		[EM_ERR_RATE_LIMITED] = "rate_limited",
		[EM_ERR_UNAVAILABLE] = "unavailable",
		[EM_ERR_BAD_GATEWAY] = "bad_gateway",
		[EM_ERR_INTERNAL] = "internal",
	};

	if ((size_t)kind >= sizeof(names) / sizeof(names[0]) || !names[kind])
		return "unknown";
	return names[kind];
}
