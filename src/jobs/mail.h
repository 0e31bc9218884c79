/*
 * mail.h - transactional mail: templates from files, RFC 5322 / MIME
 * messages, and SMTP delivery through libcurl. Used by the "email" job
 * (src/jobs/email_job.c); nothing here touches the database.
 *
 * Templates live in EMPORIUM_TEMPLATES_DIR as three files per name:
 * <name>.subject (one line), <name>.txt and <name>.html. The syntax is a
 * small subset of Mustache:
 *   {{var}}               the value of var; in the HTML part every value
 *                         is HTML-escaped (& < > " '), in the subject and
 *                         text parts it is inserted as is
 *   {{#list}}...{{/list}} the block once per element of list, an array of
 *                         documents; inside, names are looked up in the
 *                         element first, then outside (order items)
 * A value is a string or an integer (int32/int64). A name that is not
 * set is an error (the job goes dead), never an empty string: a mail
 * that says "Your code is ." helps nobody. Money is formatted by the
 * enqueuer ("BDT 1,250.00"), since only it knows the currency rules.
 */
#ifndef EM_JOBS_MAIL_H
#define EM_JOBS_MAIL_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"

/* A template name: 1..64 of [a-z0-9_] (no path can be smuggled in). */
bool mail_template_name_valid(const char *name);

/*
 * Renders len bytes of tpl with vars into out (appended). html selects
 * HTML escaping of values. Errors (EM_ERR_INVALID, field = the variable):
 * an unset variable, a value of another type, an unclosed tag or section.
 */
bool mail_template_render(const char *tpl, size_t len, const bson_t *vars, bool html,
			  bson_string_t *out, struct em_error *err);

/* Appends s HTML-escaped (& < > " ' as entities) to out. */
void mail_html_escape(bson_string_t *out, const char *s, size_t len);

/* A rendered template set; mail_rendered_release() frees it. */
struct mail_rendered {
	char *subject, *text, *html;
};

/*
 * Reads <dir>/<name>.{subject,txt,html} and renders them with vars. A
 * missing file is EM_ERR_NOT_FOUND, a bad name or render error
 * EM_ERR_INVALID; a subject that renders to more than one line is refused.
 */
bool mail_render(const char *dir, const char *name, const bson_t *vars,
		 struct mail_rendered *out, struct em_error *err);
void mail_rendered_release(struct mail_rendered *r);

/*
 * An addr-spec we are willing to send to: local@domain, printable ASCII,
 * no spaces, quotes, brackets, commas or semicolons, at most 254 bytes.
 * Deliberately stricter than RFC 5321: it is also the injection guard for
 * the envelope and the To: header.
 */
bool mail_address_valid(const char *addr);

/*
 * Splits EMPORIUM_MAIL_FROM ("Name <addr>" or "addr") into a display name
 * (may be "") and an address, both checked (no CR/LF anywhere).
 */
bool mail_from_parse(const char *from, char *name, size_t name_size, char *addr,
		     size_t addr_size, struct em_error *err);

/* Appends len bytes of s quoted-printable (RFC 2045), LF -> CRLF. */
void mail_qp_encode(bson_string_t *out, const char *s, size_t len);

/*
 * Appends a header value: as is when it is printable ASCII, else as
 * RFC 2047 encoded words (UTF-8, base64), folded so no line exceeds 78.
 */
void mail_header_encode(bson_string_t *out, const char *s);

struct mail_message {
	const char *from;       /* EMPORIUM_MAIL_FROM */
	const char *to;         /* one addr-spec */
	const char *subject;    /* UTF-8, one line */
	const char *text;       /* the text/plain part */
	const char *html;       /* the text/html part */
	const char *message_id; /* id-left@id-right, without the angle brackets */
	int64_t date;           /* Unix time for the Date: header */
};

/*
 * Builds the whole message: Date, From, To, Subject, Message-ID,
 * MIME-Version, Auto-Submitted, and a multipart/alternative body with the
 * text and HTML parts in quoted-printable, CRLF line endings throughout.
 * Refuses (EM_ERR_INVALID) CR or LF in any header value and an invalid
 * address. Returns a new string (bson_free() it) or NULL.
 */
char *mail_message_build(const struct mail_message *m, size_t *len, struct em_error *err);

/*
 * Sends msg to `to` over SMTP per cfg: EMPORIUM_SMTP_URL (smtp:// or
 * smtps://), EMPORIUM_SMTP_TLS (none | starttls = use when offered |
 * required), AUTH with EMPORIUM_SMTP_USER/PASSWORD when a user is set.
 * curl is a CURL * (reused: libcurl keeps the connection for the next
 * mail). The whole transfer is bounded by timeout_s. A 5xx answer (the
 * server refuses for good) is EM_ERR_INVALID; any other failure (no
 * connection, timeout, 4xx) is EM_ERR_UNAVAILABLE, to be retried.
 */
bool mail_smtp_send(void *curl, const struct em_config *cfg, const char *from_addr,
		    const char *to, const char *msg, size_t len, long timeout_s,
		    struct em_error *err);

#endif
