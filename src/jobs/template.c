/*
 * template.c - mail templates: {{var}} and {{#list}}...{{/list}} over a
 * BSON document of values (the syntax is in mail.h).
 *
 * Deliberately tiny: no partials, no lambdas, no unescaped output in
 * HTML. Everything a template can do is visible in this file, so a
 * template change can never turn into code execution or markup injection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "jobs/mail.h"

/* Sections nest at most this deep (items inside an order is depth 1). */
#define MAIL_TPL_MAX_DEPTH 4
/* A template file larger than this is a mistake, not a mail. */
#define MAIL_TPL_MAX_FILE (256 * 1024)
#define MAIL_VAR_MAX 64

bool mail_template_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_'))
			return false;
	return true;
}

static void buf_append_n(bson_string_t *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		bson_string_append_c(out, s[i]);
}

void mail_html_escape(bson_string_t *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '&': bson_string_append(out, "&amp;"); break;
		case '<': bson_string_append(out, "&lt;"); break;
		case '>': bson_string_append(out, "&gt;"); break;
		case '"': bson_string_append(out, "&quot;"); break;
		case '\'': bson_string_append(out, "&#39;"); break;
		default: bson_string_append_c(out, s[i]); break;
		}
	}
}

/* The innermost-first stack of documents names are looked up in. */
struct tpl_scope {
	const bson_t *docs[MAIL_TPL_MAX_DEPTH + 1];
	size_t n;
};

static bool tpl_lookup(const struct tpl_scope *sc, const char *name, bson_iter_t *it)
{
	for (size_t i = sc->n; i > 0; i--)
		if (bson_iter_init_find(it, sc->docs[i - 1], name))
			return true;
	return false;
}

/* Copies a tag's name (trimmed) into name; false when it is not a name. */
static bool tpl_name(const char *p, size_t len, char *name, size_t size)
{
	while (len > 0 && *p == ' ') {
		p++;
		len--;
	}
	while (len > 0 && p[len - 1] == ' ')
		len--;
	if (len == 0 || len >= size)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			return false;
	memcpy(name, p, len);
	name[len] = '\0';
	return true;
}

static bool tpl_value(const bson_iter_t *it, const char *name, bool html, bson_string_t *out,
		      struct em_error *err)
{
	char num[32];
	const char *v;
	uint32_t len;

	switch (bson_iter_type(it)) {
	case BSON_TYPE_UTF8:
		v = bson_iter_utf8(it, &len);
		if (memchr(v, '\0', len) || !bson_utf8_validate(v, len, false)) {
			em_error_set(err, EM_ERR_INVALID, name,
				     "template variable %s is not valid UTF-8 text", name);
			return false;
		}
		if (html)
			mail_html_escape(out, v, len);
		else
			buf_append_n(out, v, len);
		return true;
	case BSON_TYPE_INT32:
		snprintf(num, sizeof(num), "%d", (int)bson_iter_int32(it));
		bson_string_append(out, num);
		return true;
	case BSON_TYPE_INT64:
		snprintf(num, sizeof(num), "%lld", (long long)bson_iter_int64(it));
		bson_string_append(out, num);
		return true;
	default:
		em_error_set(err, EM_ERR_INVALID, name,
			     "template variable %s must be a string or an integer", name);
		return false;
	}
}

/*
 * Finds the {{/name}} that closes a section whose body starts at p,
 * counting nested sections of the same name. Returns the position of its
 * "{{" and sets *after past its "}}", or NULL.
 */
static const char *tpl_section_end(const char *p, const char *end, const char *name,
				   const char **after)
{
	int depth = 0;
	char tag[MAIL_VAR_MAX];

	while (p < end) {
		const char *open = memmem(p, (size_t)(end - p), "{{", 2), *close;

		if (!open)
			return NULL;
		close = memmem(open + 2, (size_t)(end - open - 2), "}}", 2);
		if (!close)
			return NULL;
		if ((open[2] == '#' || open[2] == '/') &&
		    tpl_name(open + 3, (size_t)(close - open - 3), tag, sizeof(tag)) &&
		    strcmp(tag, name) == 0) {
			if (open[2] == '#') {
				depth++;
			} else if (depth-- == 0) {
				*after = close + 2;
				return open;
			}
		}
		p = close + 2;
	}
	return NULL;
}

static bool tpl_render(const char *p, const char *end, struct tpl_scope *sc, bool html,
		       bson_string_t *out, struct em_error *err)
{
	char name[MAIL_VAR_MAX];

	while (p < end) {
		const char *open = memmem(p, (size_t)(end - p), "{{", 2), *close, *body_end, *after;
		bson_iter_t it, arr;
		char kind;

		if (!open) {
			buf_append_n(out, p, (size_t)(end - p));
			return true;
		}
		buf_append_n(out, p, (size_t)(open - p));
		close = memmem(open + 2, (size_t)(end - open - 2), "}}", 2);
		if (!close) {
			em_error_set(err, EM_ERR_INVALID, NULL, "template: a {{ is never closed");
			return false;
		}
		kind = open[2];
		if (kind == '#' || kind == '/') {
			if (!tpl_name(open + 3, (size_t)(close - open - 3), name, sizeof(name))) {
				em_error_set(err, EM_ERR_INVALID, NULL, "template: a bad section tag");
				return false;
			}
		} else if (!tpl_name(open + 2, (size_t)(close - open - 2), name, sizeof(name))) {
			em_error_set(err, EM_ERR_INVALID, NULL, "template: a bad tag {{%.*s}}",
				     (int)(close - open - 2 > 40 ? 40 : close - open - 2), open + 2);
			return false;
		}
		if (kind == '/') {
			em_error_set(err, EM_ERR_INVALID, name,
				     "template: {{/%s}} closes no section", name);
			return false;
		}
		if (!tpl_lookup(sc, name, &it)) {
			em_error_set(err, EM_ERR_INVALID, name, "template variable %s is not set", name);
			return false;
		}
		if (kind != '#') {
			if (!tpl_value(&it, name, html, out, err))
				return false;
			p = close + 2;
			continue;
		}
		body_end = tpl_section_end(close + 2, end, name, &after);
		if (!body_end) {
			em_error_set(err, EM_ERR_INVALID, name,
				     "template: section {{#%s}} is never closed", name);
			return false;
		}
		if (!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &arr)) {
			em_error_set(err, EM_ERR_INVALID, name,
				     "template variable %s must be an array of documents", name);
			return false;
		}
		if (sc->n > MAIL_TPL_MAX_DEPTH) {
			em_error_set(err, EM_ERR_INVALID, name, "template: sections nest too deep");
			return false;
		}
		while (bson_iter_next(&arr)) {
			const uint8_t *data;
			uint32_t dlen;
			bson_t elem;
			bool ok;

			if (!BSON_ITER_HOLDS_DOCUMENT(&arr)) {
				em_error_set(err, EM_ERR_INVALID, name,
					     "template variable %s must be an array of documents", name);
				return false;
			}
			bson_iter_document(&arr, &dlen, &data);
			if (!bson_init_static(&elem, data, dlen)) {
				em_error_set(err, EM_ERR_INVALID, name, "template variable %s is corrupt",
					     name);
				return false;
			}
			sc->docs[sc->n++] = &elem;
			ok = tpl_render(close + 2, body_end, sc, html, out, err);
			sc->n--;
			if (!ok)
				return false;
		}
		p = after;
	}
	return true;
}

bool mail_template_render(const char *tpl, size_t len, const bson_t *vars, bool html,
			  bson_string_t *out, struct em_error *err)
{
	struct tpl_scope sc = { { vars }, 1 };

	return tpl_render(tpl, tpl + len, &sc, html, out, err);
}

/* Reads <dir>/<name>.<ext> whole into a new NUL-terminated buffer. */
static bool tpl_file_read(const char *dir, const char *name, const char *ext, char **text,
			  size_t *len, struct em_error *err)
{
	char path[1024];
	FILE *f = NULL;
	char *buf = NULL;
	size_t n = 0;
	bool ok = false;
	int r;

	r = snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	if (r < 0 || (size_t)r >= sizeof(path)) {
		em_error_set(err, EM_ERR_INVALID, "template", "template path too long");
		goto done;
	}
	f = fopen(path, "rb");
	if (!f) {
		em_error_set(err, errno == ENOENT ? EM_ERR_NOT_FOUND : EM_ERR_INTERNAL, "template",
			     "template %s: cannot read %s: %s", name, path, strerror(errno));
		goto done;
	}
	buf = xmalloc(MAIL_TPL_MAX_FILE + 1);
	n = fread(buf, 1, MAIL_TPL_MAX_FILE + 1, f);
	if (ferror(f)) {
		em_error_set(err, EM_ERR_INTERNAL, "template", "template %s: reading %s failed",
			     name, path);
		goto done;
	}
	if (n > MAIL_TPL_MAX_FILE) {
		em_error_set(err, EM_ERR_INVALID, "template", "template %s: %s is too large", name,
			     path);
		goto done;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	buf = NULL;
	ok = true;
done:
	if (f)
		fclose(f);
	free(buf);
	return ok;
}

static char *tpl_render_file(const char *dir, const char *name, const char *ext,
			     const bson_t *vars, bool html, struct em_error *err)
{
	bson_string_t *out = NULL;
	char *text = NULL, *res = NULL;
	size_t len = 0;

	if (!tpl_file_read(dir, name, ext, &text, &len, err))
		goto done;
	out = bson_string_new(NULL);
	if (!mail_template_render(text, len, vars, html, out, err)) {
		/* say which file, keep the variable as the field */
		char msg[sizeof(err->message)];

		memcpy(msg, err->message, sizeof(msg));
		msg[sizeof(msg) - 1] = '\0';
		snprintf(err->message, sizeof(err->message), "%.64s.%s: %.180s", name, ext, msg);
		goto done;
	}
	res = bson_string_free(out, false);
	out = NULL;
done:
	if (out)
		bson_string_free(out, true);
	free(text);
	return res;
}

bool mail_render(const char *dir, const char *name, const bson_t *vars,
		 struct mail_rendered *out, struct em_error *err)
{
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!mail_template_name_valid(name)) {
		em_error_set(err, EM_ERR_INVALID, "template", "not a template name");
		return false;
	}
	out->subject = tpl_render_file(dir, name, "subject", vars, false, err);
	if (!out->subject)
		goto fail;
	/* the file ends with a newline; the header must not */
	n = strlen(out->subject);
	while (n > 0 && (out->subject[n - 1] == '\n' || out->subject[n - 1] == '\r' ||
			 out->subject[n - 1] == ' '))
		out->subject[--n] = '\0';
	if (n == 0 || strpbrk(out->subject, "\r\n")) {
		em_error_set(err, EM_ERR_INVALID, "subject",
			     "template %s: the subject must be one non-empty line", name);
		goto fail;
	}
	out->text = tpl_render_file(dir, name, "txt", vars, false, err);
	if (!out->text)
		goto fail;
	out->html = tpl_render_file(dir, name, "html", vars, true, err);
	if (!out->html)
		goto fail;
	return true;
fail:
	mail_rendered_release(out);
	return false;
}

void mail_rendered_release(struct mail_rendered *r)
{
	bson_free(r->subject);
	bson_free(r->text);
	bson_free(r->html);
	memset(r, 0, sizeof(*r));
}
