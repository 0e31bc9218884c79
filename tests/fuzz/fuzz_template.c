/*
 * fuzz_template - the mail template renderer (src/jobs/template.c):
 * {{var}} and {{#list}}...{{/list}} over a BSON document.
 *
 * Input: the first byte selects the HTML part (bit 0) or the text part;
 * the rest is the template. The variables are fixed and cover every case
 * the renderer distinguishes: strings with markup, integers of both
 * widths, a double and a document (wrong types), arrays of documents
 * nested two deep, an array of non-documents, text that is not UTF-8 and
 * text with a NUL. Checked: a refusal says why; in the HTML part no
 * variable's markup comes out unescaped (the values' markup surrounds a
 * DEL byte, so it cannot be confused with the template's own).
 */
#include <stdbool.h>

#include "fuzz.h"
#include "jobs/mail.h"

static bson_t *vars;

static bson_t *vars_build(void)
{
	bson_t *v = bson_new(), arr, doc, inner, idoc;

	BSON_APPEND_UTF8(v, "name", "<\x7f>Ann & \"Bo\" O'Neil");
	BSON_APPEND_UTF8(v, "code", "123456");
	BSON_APPEND_UTF8(v, "empty", "");
	BSON_APPEND_INT32(v, "n", -2147483647 - 1);
	BSON_APPEND_INT64(v, "big", INT64_MIN);
	BSON_APPEND_DOUBLE(v, "d", 1.5);
	bson_append_utf8(v, "bad_utf8", -1, "\xff\xfe<", 3);
	bson_append_utf8(v, "with_nul", -1, "a\0<b>", 5);
	BSON_APPEND_DOCUMENT_BEGIN(v, "doc", &doc);
	BSON_APPEND_UTF8(&doc, "x", "y");
	bson_append_document_end(v, &doc);
	BSON_APPEND_ARRAY_BEGIN(v, "items", &arr);
	for (int i = 0; i < 3; i++) {
		char key[4];

		snprintf(key, sizeof(key), "%d", i);
		BSON_APPEND_DOCUMENT_BEGIN(&arr, key, &doc);
		BSON_APPEND_UTF8(&doc, "title", i == 1 ? "<\x7f>script" : "Shirt");
		BSON_APPEND_INT32(&doc, "quantity", i + 1);
		BSON_APPEND_UTF8(&doc, "price", "BDT 1,250.00");
		BSON_APPEND_ARRAY_BEGIN(&doc, "items", &inner);
		BSON_APPEND_DOCUMENT_BEGIN(&inner, "0", &idoc);
		BSON_APPEND_UTF8(&idoc, "title", "'inner'");
		bson_append_document_end(&inner, &idoc);
		bson_append_array_end(&doc, &inner);
		bson_append_document_end(&arr, &doc);
	}
	bson_append_array_end(v, &arr);
	BSON_APPEND_ARRAY_BEGIN(v, "none", &arr);
	bson_append_array_end(v, &arr);
	BSON_APPEND_ARRAY_BEGIN(v, "ints", &arr);
	BSON_APPEND_INT32(&arr, "0", 1);
	bson_append_array_end(v, &arr);
	return v;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	vars = vars_build();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct em_error err = EM_ERROR_INIT;
	bson_string_t *out;
	bool html, ok;
	char *tpl;

	if (size < 1)
		return 0;
	html = data[0] & 1;
	/* a buffer of exactly the template's size: ASan sees any overread */
	tpl = xmalloc(size - 1 ? size - 1 : 1);
	memcpy(tpl, data + 1, size - 1);
	out = bson_string_new(NULL);
	ok = mail_template_render(tpl, size - 1, vars, html, out, &err);
	if (!ok) {
		FUZZ_CHECK(err.kind == EM_ERR_INVALID && err.message[0]);
	} else if (html && !memchr(tpl, 0x7f, size - 1)) {
		/* Values that hold markup hold it around a DEL byte ("<\x7f>"),
		 * which no template without one can write: an unescaped value
		 * would show as "<\x7f" or "\x7f>" in the output. */
		FUZZ_CHECK(!strstr(out->str, "<\x7f") && !strstr(out->str, "\x7f>"));
	}
	bson_string_free(out, true);
	free(tpl);
	return 0;
}
