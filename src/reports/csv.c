/*
 * csv.c - the CSV downloads: RFC 4180 with formula-injection-safe cells.
 */
#include "reports/reports.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void reports_csv_init(struct reports_csv *c)
{
	c->s = bson_string_new(NULL);
	c->row_open = false;
}

void reports_csv_cell(struct reports_csv *c, const char *text)
{
	bool quote;

	if (!text)
		text = "";
	if (c->row_open)
		bson_string_append_c(c->s, ',');
	c->row_open = true;
	quote = strpbrk(text, ",\"\r\n") != NULL;
	if (quote)
		bson_string_append_c(c->s, '"');
	/* a spreadsheet runs a cell starting with these as a formula */
	if (strchr("=+-@\t\r", text[0]) && text[0] != '\0')
		bson_string_append_c(c->s, '\'');
	for (const char *p = text; *p; p++) {
		if (*p == '"')
			bson_string_append_c(c->s, '"');
		bson_string_append_c(c->s, *p);
	}
	if (quote)
		bson_string_append_c(c->s, '"');
}

void reports_csv_int(struct reports_csv *c, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	reports_csv_cell(c, buf);
}

void reports_csv_pct(struct reports_csv *c, bool have, double pct)
{
	char buf[32];

	if (!have) {
		reports_csv_cell(c, "");
		return;
	}
	snprintf(buf, sizeof(buf), "%.1f", pct);
	reports_csv_cell(c, buf);
}

void reports_csv_row_end(struct reports_csv *c)
{
	bson_string_append(c->s, "\r\n");
	c->row_open = false;
}

const char *reports_csv_text(const struct reports_csv *c, size_t *len)
{
	*len = c->s->len;
	return c->s->str;
}

void reports_csv_release(struct reports_csv *c)
{
	if (c->s)
		bson_string_free(c->s, true);
	c->s = NULL;
}
