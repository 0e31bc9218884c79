/*
 * mime.c - RFC 5322 messages with a multipart/alternative MIME body.
 *
 * Every header value that comes from data (the recipient, the rendered
 * subject, the configured From) is checked for CR and LF before it is
 * written: a value with a line break would let whoever controls it add
 * headers or a whole second message (header injection). Bodies are
 * quoted-printable, so long lines and 8-bit text survive any relay, and
 * a leading "." is encoded so no line can end the SMTP DATA phase.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jobs/mail.h"

#define MAIL_QP_LINE 76 /* RFC 2045: encoded lines at most 76 chars */

bool mail_address_valid(const char *addr)
{
	const char *at;
	size_t n;

	if (!addr)
		return false;
	n = strlen(addr);
	if (n < 3 || n > 254)
		return false;
	at = strchr(addr, '@');
	if (!at || at == addr || at - addr > 64 || strchr(at + 1, '@') || at[1] == '\0')
		return false;
	for (const char *p = addr; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || strchr("<>()[],;:\\\"", c))
			return false;
	}
	/* no empty domain labels ("a@b..c", "a@.b", "a@b.") */
	if (at[1] == '.' || addr[n - 1] == '.' || strstr(at, ".."))
		return false;
	return true;
}

static bool has_line_break(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

bool mail_from_parse(const char *from, char *name, size_t name_size, char *addr,
		     size_t addr_size, struct em_error *err)
{
	const char *lt, *gt, *s = from, *e;
	size_t nlen, alen;

	if (!from || has_line_break(from))
		goto bad;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	lt = memchr(s, '<', (size_t)(e - s));
	if (!lt) {
		nlen = 0;
		alen = (size_t)(e - s);
		if (alen >= addr_size)
			goto bad;
		memcpy(addr, s, alen);
	} else {
		gt = memchr(lt, '>', (size_t)(e - lt));
		if (!gt || gt + 1 != e)
			goto bad;
		alen = (size_t)(gt - lt - 1);
		if (alen >= addr_size)
			goto bad;
		memcpy(addr, lt + 1, alen);
		/* the display name, without blanks and surrounding quotes */
		e = lt;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e - s >= 2 && *s == '"' && e[-1] == '"') {
			s++;
			e--;
		}
		nlen = (size_t)(e - s);
		if (nlen >= name_size || memchr(s, '<', nlen) || memchr(s, '>', nlen) ||
		    memchr(s, '"', nlen))
			goto bad;
		memcpy(name, s, nlen);
	}
	name[nlen] = '\0';
	addr[alen] = '\0';
	if (!mail_address_valid(addr))
		goto bad;
	return true;
bad:
	em_error_set(err, EM_ERR_INVALID, "EMPORIUM_MAIL_FROM",
		     "EMPORIUM_MAIL_FROM must be \"Name <address>\" or an address");
	return false;
}

void mail_qp_encode(bson_string_t *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool literal;

		if (c == '\r' && i + 1 < len && s[i + 1] == '\n')
			continue; /* CRLF is written for the LF */
		if (c == '\n') {
			bson_string_append(out, "\r\n");
			col = 0;
			continue;
		}
		for (;;) {
			/* blanks before a line end (or the end) would be stripped in transit */
			bool at_eol = i + 1 == len || s[i + 1] == '\n' ||
				      (s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n');

			literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol);
			/* a "." opening a line could end the SMTP DATA phase */
			if (c == '.' && col == 0)
				literal = false;
			if (col + (literal ? 1 : 3) <= MAIL_QP_LINE - 1)
				break;
			bson_string_append(out, "=\r\n"); /* soft line break */
			col = 0;
		}
		if (literal) {
			bson_string_append_c(out, (char)c);
			col++;
		} else {
			bson_string_append_c(out, '=');
			bson_string_append_c(out, hex[c >> 4]);
			bson_string_append_c(out, hex[c & 15]);
			col += 3;
		}
	}
}

static bool is_plain_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

void mail_header_encode(bson_string_t *out, const char *s)
{
	/* 39 bytes -> 52 base64 chars -> a 64-char word: "Subject: " + word < 78 */
	const size_t chunk = 39;
	size_t len = strlen(s), pos = 0;
	bool first = true;

	if (is_plain_ascii(s) && !strstr(s, "=?") && len <= 900) {
		bson_string_append(out, s);
		return;
	}
	while (pos < len) {
		char b64[sodium_base64_ENCODED_LEN(39, sodium_base64_VARIANT_ORIGINAL)];
		size_t end = pos + chunk < len ? pos + chunk : len;

		/* never split a UTF-8 sequence across two words (RFC 2047 6.3) */
		while (end > pos + 1 && end < len && ((unsigned char)s[end] & 0xC0) == 0x80)
			end--;
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)s + pos, end - pos,
				  sodium_base64_VARIANT_ORIGINAL);
		if (!first)
			bson_string_append(out, "\r\n ");
		bson_string_append(out, "=?UTF-8?B?");
		bson_string_append(out, b64);
		bson_string_append(out, "?=");
		first = false;
		pos = end;
	}
}

/* An RFC 5322 display name: atoms as is, other ASCII quoted, else encoded. */
static void mail_display_name(bson_string_t *out, const char *name)
{
	bool atoms = true;

	if (!is_plain_ascii(name)) {
		mail_header_encode(out, name);
		return;
	}
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(" !#$%&'*+-/=?^_`{|}~", *p)))
			atoms = false;
	if (atoms) {
		bson_string_append(out, name);
		return;
	}
	bson_string_append_c(out, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			bson_string_append_c(out, '\\');
		bson_string_append_c(out, *p);
	}
	bson_string_append_c(out, '"');
}

static void mail_part(bson_string_t *out, const char *boundary, const char *type,
		      const char *body)
{
	bson_string_append_printf(out, "--%s\r\n", boundary);
	bson_string_append_printf(out, "Content-Type: %s; charset=UTF-8\r\n", type);
	bson_string_append(out, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	mail_qp_encode(out, body, strlen(body));
	bson_string_append(out, "\r\n");
}

char *mail_message_build(const struct mail_message *m, size_t *len, struct em_error *err)
{
	char name[256], addr[256], date[64], boundary[48];
	unsigned char rnd[12];
	struct tm tm;
	time_t t = (time_t)m->date;
	bson_string_t *out;

	if (!mail_from_parse(m->from, name, sizeof(name), addr, sizeof(addr), err))
		return NULL;
	if (!mail_address_valid(m->to)) {
		em_error_set(err, EM_ERR_INVALID, "to", "not a deliverable mail address");
		return NULL;
	}
	if (!m->subject || !*m->subject || has_line_break(m->subject)) {
		em_error_set(err, EM_ERR_INVALID, "subject", "the subject must be one line");
		return NULL;
	}
	if (!m->message_id || !strchr(m->message_id, '@') || has_line_break(m->message_id) ||
	    strpbrk(m->message_id, "<> \t")) {
		em_error_set(err, EM_ERR_INVALID, "message_id", "not a Message-ID");
		return NULL;
	}
	if (!m->text || !m->html) {
		em_error_set(err, EM_ERR_INVALID, "body", "a mail needs a text and an HTML part");
		return NULL;
	}
	if (!gmtime_r(&t, &tm) ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot format the Date header");
		return NULL;
	}
	/* "=_" never occurs in quoted-printable text, so no part can contain it */
	if (sodium_init() < 0) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libsodium did not initialise");
		return NULL;
	}
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(boundary, "=_em_", 5);
	sodium_bin2hex(boundary + 5, sizeof(boundary) - 5, rnd, sizeof(rnd));

	out = bson_string_new(NULL);
	bson_string_append_printf(out, "Date: %s\r\n", date);
	bson_string_append(out, "From: ");
	if (name[0]) {
		mail_display_name(out, name);
		bson_string_append_printf(out, " <%s>\r\n", addr);
	} else {
		bson_string_append_printf(out, "%s\r\n", addr);
	}
	bson_string_append_printf(out, "To: %s\r\n", m->to);
	bson_string_append(out, "Subject: ");
	mail_header_encode(out, m->subject);
	bson_string_append(out, "\r\n");
	bson_string_append_printf(out, "Message-ID: <%s>\r\n", m->message_id);
	bson_string_append(out, "MIME-Version: 1.0\r\n");
	/* RFC 3834: machines should not auto-reply to this */
	bson_string_append(out, "Auto-Submitted: auto-generated\r\n");
	bson_string_append_printf(out,
				  "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
				  boundary);
	bson_string_append(out, "This is a multi-part message in MIME format.\r\n\r\n");
	mail_part(out, boundary, "text/plain", m->text);
	mail_part(out, boundary, "text/html", m->html);
	bson_string_append_printf(out, "--%s--\r\n", boundary);
	*len = out->len;
	return bson_string_free(out, false);
}
