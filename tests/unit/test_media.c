/*
 * Unit tests for src/media: the multipart parser (good and malformed
 * bodies), the image prober (valid samples; truncated, damaged, bombs,
 * scripts renamed), SHA-1 and Cloudinary's request signature (the
 * examples from Cloudinary's documentation), local paths and URLs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/modules.h"
#include "media/media.h"

/* ---- helpers ---- */

static unsigned char *fixture(const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	unsigned char *buf = malloc(1 << 16);

	snprintf(path, sizeof(path), "%s/tests/fixtures/images/%s", EM_TOP_SRCDIR, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	assert_true(*len > 0);
	return buf;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Appends a PNG chunk with its CRC; returns the new length. */
static size_t chunk(unsigned char *out, size_t off, const char *type,
		    const unsigned char *data, uint32_t len)
{
	put32(out + off, len);
	memcpy(out + off + 4, type, 4);
	if (len)
		memcpy(out + off + 8, data, len);
	put32(out + off + 8 + len, media_crc32(0, out + off + 4, 4 + (size_t)len));
	return off + 12 + len;
}

/*
 * A grayscale 8-bit PNG of w x h (declared dw x dh) whose IDAT is one
 * stored (uncompressed) deflate block: a valid image when dw == w and
 * dh == h, and a "bomb" header on tiny data otherwise.
 */
static size_t png_make(unsigned char *out, uint32_t w, uint32_t h, uint32_t dw, uint32_t dh,
		       unsigned char seed)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char ihdr[13], idat[1024];
	size_t raw = (size_t)(w + 1) * h, off = 8, n = 0;
	uint32_t a = 1, b = 0;

	assert_true(raw < 1000);
	memcpy(out, sig, 8);
	put32(ihdr, dw);
	put32(ihdr + 4, dh);
	ihdr[8] = 8;  /* bit depth */
	ihdr[9] = 0;  /* grayscale */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	off = chunk(out, off, "IHDR", ihdr, 13);
	idat[n++] = 0x78;
	idat[n++] = 0x01;
	idat[n++] = 0x01; /* final, stored */
	idat[n++] = (unsigned char)(raw & 0xff);
	idat[n++] = (unsigned char)(raw >> 8);
	idat[n++] = (unsigned char)(~raw & 0xff);
	idat[n++] = (unsigned char)((~raw >> 8) & 0xff);
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x <= w; x++) {
			unsigned char v = x == 0 ? 0 : (unsigned char)(seed + x * 7 + y * 13);

			idat[n++] = v;
			a = (a + v) % 65521;
			b = (b + a) % 65521;
		}
	}
	put32(idat + n, b << 16 | a);
	n += 4;
	off = chunk(out, off, "IDAT", idat, (uint32_t)n);
	return chunk(out, off, "IEND", NULL, 0);
}

static enum em_error_kind probe_kind(const unsigned char *d, size_t len)
{
	struct media_image_info info;
	struct em_error err = EM_ERROR_INIT;

	if (media_image_probe(d, len, 40000000, &info, &err))
		return EM_ERR_NONE;
	assert_string_equal(err.field, "file");
	return err.kind;
}

/* ---- multipart ---- */

static void test_boundary(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	char b[MEDIA_BOUNDARY_MAX + 1];
	char long_ct[200];

	(void)state;
	assert_true(media_multipart_boundary("multipart/form-data; boundary=abc123", b,
					     sizeof(b), &err));
	assert_string_equal(b, "abc123");
	assert_true(media_multipart_boundary("Multipart/Form-Data;BOUNDARY=\"a b'()+_,-./:=?\"",
					     b, sizeof(b), &err));
	assert_string_equal(b, "a b'()+_,-./:=?");
	assert_true(media_multipart_boundary(
		"multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundaryx", b,
		sizeof(b), &err));
	assert_string_equal(b, "----WebKitFormBoundaryx");

	assert_false(media_multipart_boundary("application/json", b, sizeof(b), &err));
	assert_int_equal(err.kind, EM_ERR_MEDIA_TYPE);
	assert_false(media_multipart_boundary(NULL, b, sizeof(b), &err));
	assert_int_equal(err.kind, EM_ERR_MEDIA_TYPE);
	assert_false(media_multipart_boundary("multipart/form-dataX; boundary=a", b, sizeof(b),
					      &err));
	assert_int_equal(err.kind, EM_ERR_MEDIA_TYPE);
	assert_false(media_multipart_boundary("multipart/mixed; boundary=a", b, sizeof(b), &err));
	assert_int_equal(err.kind, EM_ERR_MEDIA_TYPE);

	/* missing, empty, too long, trailing space, bad characters, twice */
	assert_false(media_multipart_boundary("multipart/form-data", b, sizeof(b), &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
	assert_false(media_multipart_boundary("multipart/form-data; boundary=", b, sizeof(b), &err));
	assert_false(media_multipart_boundary("multipart/form-data; boundary=\"\"", b, sizeof(b),
					      &err));
	snprintf(long_ct, sizeof(long_ct), "multipart/form-data; boundary=%071d", 0);
	assert_false(media_multipart_boundary(long_ct, b, sizeof(b), &err));
	snprintf(long_ct, sizeof(long_ct), "multipart/form-data; boundary=%070d", 0);
	assert_true(media_multipart_boundary(long_ct, b, sizeof(b), &err));
	assert_int_equal(strlen(b), 70);
	assert_false(media_multipart_boundary("multipart/form-data; boundary=\"ab \"", b, sizeof(b),
					      &err));
	assert_false(media_multipart_boundary("multipart/form-data; boundary=a@b", b, sizeof(b),
					      &err));
	assert_false(media_multipart_boundary("multipart/form-data; boundary=\"a\\\"b\"", b,
					      sizeof(b), &err));
	assert_false(media_multipart_boundary("multipart/form-data; boundary=\"abc", b, sizeof(b),
					      &err));
	assert_false(media_multipart_boundary("multipart/form-data; boundary=a; boundary=b", b,
					      sizeof(b), &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
}

static bool parse(const char *body, struct media_multipart *mp, struct em_error *err)
{
	return media_multipart_parse(body, strlen(body), "XyZ", mp, err);
}

static void test_multipart_ok(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	struct media_multipart mp;
	const struct media_part *p;
	/* binary data with CR, LF, "--" and a near-miss of the boundary */
	static const char body[] =
		"preamble to ignore\r\n"
		"--XyZ\r\n"
		"Content-Disposition: form-data; name=\"file\"; filename=\"evil.php\"\r\n"
		"Content-Type: image/png\r\n"
		"\r\n"
		"\x89PNG\r\n--XyY\r\n--Xy\x00Z data\r\n"
		"--XyZ  \r\n"
		"content-disposition: FORM-DATA;name=alt\r\n"
		"\r\n"
		"A red shoe\r\n"
		"--XyZ--\r\n"
		"epilogue";

	(void)state;
	assert_true(media_multipart_parse(body, sizeof(body) - 1, "XyZ", &mp, &err));
	assert_int_equal(mp.nparts, 2);
	p = media_multipart_get(&mp, "file");
	assert_non_null(p);
	assert_true(p->has_filename);
	assert_int_equal(p->len, 24);
	assert_memory_equal(p->data, "\x89PNG\r\n--XyY\r\n--Xy\x00Z data", 24);
	p = media_multipart_get(&mp, "alt");
	assert_non_null(p);
	assert_false(p->has_filename);
	assert_int_equal(p->len, 10);
	assert_memory_equal(p->data, "A red shoe", 10);
	assert_null(media_multipart_get(&mp, "other"));

	/* an empty part and no preamble */
	assert_true(parse("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--XyZ--", &mp,
			  &err));
	assert_int_equal(mp.nparts, 1);
	assert_int_equal(mp.parts[0].len, 0);
}

static void test_multipart_malformed(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	struct media_multipart mp;
	char big[8000];
	static const char *const bad[] = {
		"",                                                     /* empty */
		"no boundary here at all",
		"--XyZ",                                                /* nothing after */
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\ndata",  /* truncated */
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\ndata\r\n--XyZ",  /* no close */
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\n",  /* headers unterminated */
		"--XyZ\r\n\r\ndata\r\n--XyZ--",                          /* no headers */
		"--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--",  /* no disposition */
		"--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--",  /* no name */
		"--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; "
		"name=b\r\n\r\nx\r\n--XyZ--",
		"--XyZ\r\nno colon here\r\n\r\nx\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZ\r\n"
		"Content-Disposition: form-data; name=a\r\n\r\ny\r\n--XyZ--",  /* duplicate */
		"--XyZjunk\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZ--",
		"--XyZ\nContent-Disposition: form-data; name=a\n\nx\n--XyZ--",  /* bare LF */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		em_error_clear(&err);
		if (parse(bad[i], &mp, &err))
			fail_msg("accepted malformed body %zu", i);
		assert_int_equal(err.kind, EM_ERR_INVALID);
	}
	/* too many parts */
	{
		size_t n = 0;

		for (int i = 0; i < MEDIA_MULTIPART_MAX_PARTS + 1; i++)
			n += (size_t)snprintf(big + n, sizeof(big) - n,
					      "--XyZ\r\nContent-Disposition: form-data; name=p%d\r\n\r\nx\r\n", i);
		snprintf(big + n, sizeof(big) - n, "--XyZ--");
		assert_false(parse(big, &mp, &err));
		assert_non_null(strstr(err.message, "too many parts"));
	}
	/* a header block over the bound */
	{
		size_t n = (size_t)snprintf(big, sizeof(big),
					    "--XyZ\r\nContent-Disposition: form-data; name=a\r\nX-Pad: ");

		memset(big + n, 'p', 5000);
		snprintf(big + n + 5000, sizeof(big) - n - 5000, "\r\n\r\nx\r\n--XyZ--");
		assert_false(parse(big, &mp, &err));
	}
}

/* ---- images ---- */

static void test_probe_valid(void **state)
{
	static const struct {
		const char *file;
		enum media_image_type type;
		uint32_t w, h;
		const char *ct, *ext;
	} cases[] = {
		{ "baseline-5x3.jpg", MEDIA_IMAGE_JPEG, 5, 3, "image/jpeg", "jpg" },
		{ "progressive-4x6.jpg", MEDIA_IMAGE_JPEG, 4, 6, "image/jpeg", "jpg" },
		{ "rgba-3x2.png", MEDIA_IMAGE_PNG, 3, 2, "image/png", "png" },
		{ "lossless-1x1.webp", MEDIA_IMAGE_WEBP, 1, 1, "image/webp", "webp" },
		{ "lossy-1x1.webp", MEDIA_IMAGE_WEBP, 1, 1, "image/webp", "webp" },
		{ "alpha-1x1.webp", MEDIA_IMAGE_WEBP, 1, 1, "image/webp", "webp" },
	};
	unsigned char png[2048];
	struct media_image_info info;
	struct em_error err = EM_ERROR_INIT;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char *d = fixture(cases[i].file, &len);

		if (!media_image_probe(d, len, 40000000, &info, &err))
			fail_msg("%s refused: %s", cases[i].file, err.message);
		assert_int_equal(info.type, cases[i].type);
		assert_int_equal(info.width, cases[i].w);
		assert_int_equal(info.height, cases[i].h);
		assert_string_equal(info.content_type, cases[i].ct);
		assert_string_equal(info.ext, cases[i].ext);
		free(d);
	}
	len = png_make(png, 7, 5, 7, 5, 1);
	assert_true(media_image_probe(png, len, 35, &info, &err));
	assert_int_equal(info.width, 7);
	assert_int_equal(info.height, 5);
	/* one pixel over the limit */
	assert_false(media_image_probe(png, len, 34, &info, &err));
	assert_int_equal(err.kind, EM_ERR_INVALID);
}

static void test_probe_refused(void **state)
{
	unsigned char png[2048], buf[70000], *d;
	size_t len, plen;
	static const char php[] = "<?php system($_GET['c']); ?>";
	static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";

	(void)state;
	/* not images at all: 415 */
	assert_int_equal(probe_kind((const unsigned char *)php, sizeof(php) - 1), EM_ERR_MEDIA_TYPE);
	assert_int_equal(probe_kind((const unsigned char *)svg, sizeof(svg) - 1), EM_ERR_MEDIA_TYPE);
	assert_int_equal(probe_kind((const unsigned char *)"GIF89a\x01\x00\x01\x00", 10),
			 EM_ERR_MEDIA_TYPE);
	assert_int_equal(probe_kind((const unsigned char *)"", 0), EM_ERR_MEDIA_TYPE);

	/* PNG: truncated anywhere, bad CRC, bomb, zero size, trailing data */
	plen = png_make(png, 2, 2, 2, 2, 9);
	assert_int_equal(probe_kind(png, plen), EM_ERR_NONE);
	for (size_t cut = 8; cut < plen; cut++)
		if (probe_kind(png, cut) != EM_ERR_INVALID)
			fail_msg("PNG cut at %zu not refused", cut);
	png[20] ^= 1; /* inside IHDR: width's low byte... CRC no longer matches */
	assert_int_equal(probe_kind(png, plen), EM_ERR_INVALID);
	len = png_make(png, 1, 1, 100000, 100000, 0);
	assert_int_equal(probe_kind(png, len), EM_ERR_INVALID);
	len = png_make(png, 1, 1, 0, 1, 0);
	assert_int_equal(probe_kind(png, len), EM_ERR_INVALID);
	len = png_make(png, 1, 1, 1, 1, 0);
	memcpy(png + len, php, sizeof(php) - 1); /* a PHP payload after IEND */
	assert_int_equal(probe_kind(png, len + sizeof(php) - 1), EM_ERR_INVALID);

	/* JPEG: truncated anywhere, trailing data, zero height, lossless */
	d = fixture("baseline-5x3.jpg", &len);
	for (size_t cut = 3; cut < len; cut++)
		if (probe_kind(d, cut) != EM_ERR_INVALID)
			fail_msg("JPEG cut at %zu not refused", cut);
	memcpy(buf, d, len);
	memcpy(buf + len, php, sizeof(php) - 1);
	assert_int_equal(probe_kind(buf, len + sizeof(php) - 1), EM_ERR_INVALID);
	for (size_t i = 2; i + 1 < len; i++) {
		if (d[i] == 0xff && d[i + 1] == 0xc0) {
			memcpy(buf, d, len);
			buf[i + 5] = buf[i + 6] = 0; /* height 0 */
			assert_int_equal(probe_kind(buf, len), EM_ERR_INVALID);
			memcpy(buf, d, len);
			buf[i + 1] = 0xc3; /* lossless */
			assert_int_equal(probe_kind(buf, len), EM_ERR_MEDIA_TYPE);
			memcpy(buf, d, len);
			buf[i + 5] = buf[i + 6] = buf[i + 7] = buf[i + 8] = 0xff; /* 65535^2 */
			assert_int_equal(probe_kind(buf, len), EM_ERR_INVALID);
			break;
		}
	}
	free(d);

	/* WebP: truncated anywhere, RIFF size lies, trailing data */
	d = fixture("alpha-1x1.webp", &len);
	for (size_t cut = 12; cut < len; cut++)
		if (probe_kind(d, cut) != EM_ERR_INVALID)
			fail_msg("WebP cut at %zu not refused", cut);
	memcpy(buf, d, len);
	buf[4] += 2;
	assert_int_equal(probe_kind(buf, len), EM_ERR_INVALID);
	memcpy(buf, d, len);
	memcpy(buf + len, "ab", 2);
	assert_int_equal(probe_kind(buf, len + 2), EM_ERR_INVALID);
	free(d);
}

/* ---- hashes and signatures ---- */

static void hex(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_sha1(void **state)
{
	unsigned char d[20];
	char h[41];
	char *million = malloc(1000000);

	(void)state;
	media_sha1((const unsigned char *)"", 0, d);
	hex(d, 20, h);
	assert_string_equal(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	media_sha1((const unsigned char *)"abc", 3, d);
	hex(d, 20, h);
	assert_string_equal(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
	media_sha1((const unsigned char *)"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		   56, d);
	hex(d, 20, h);
	assert_string_equal(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	assert_non_null(million);
	memset(million, 'a', 1000000);
	media_sha1((const unsigned char *)million, 1000000, d);
	hex(d, 20, h);
	assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(million);
}

static void test_cloudinary_sign(void **state)
{
	char sig[65];
	/* Cloudinary's documented example ("Generating authentication
	 * signatures"): secret abcd, these three parameters. */
	const char *const doc[] = { "timestamp=1315060510", "public_id=sample_image",
				    "eager=w_400,h_300,c_pad|w_260,h_200,c_crop", NULL };
	/* Cloudinary support's sanity check for a hand-made signature. */
	const char *const support[] = { "public_id=sample_image", "timestamp=1315060510", NULL };
	const char *const bad[] = { "no-equals-sign", NULL };

	(void)state;
	assert_true(media_cloudinary_sign(doc, "abcd", false, sig, sizeof(sig)));
	assert_string_equal(sig, "bfd09f95f331f558cbd1320e67aa8d488770583e");
	assert_true(media_cloudinary_sign(support, "abcd", false, sig, sizeof(sig)));
	assert_string_equal(sig, "b4ad47fb4e25c7bf5f92a20089f9db59bc302313");
	/* the same string under SHA-256 (sha256sum of the documented string) */
	assert_true(media_cloudinary_sign(doc, "abcd", true, sig, sizeof(sig)));
	assert_string_equal(sig, "cc927e1290f9e3ae4c1a741eda21a4630b4ce80f9ce0bc0296337d25cf40f91e");
	assert_false(media_cloudinary_sign(bad, "abcd", false, sig, sizeof(sig)));
	assert_false(media_cloudinary_sign(doc, "abcd", true, sig, 41));
}

static void test_local_names(void **state)
{
	struct em_config cfg;
	struct em_error err = EM_ERROR_INIT;
	struct media_config *mc;
	char out[256], hash[65];

	(void)state;
	setenv("EMPORIUM_ENV_FILE", "/dev/null", 1);
	assert_true(em_app_config_load(&cfg, &err));
	mc = em_config_section_mut(&cfg, &media_config_section);
	media_sha256_hex((const unsigned char *)"abc", 3, hash);
	assert_string_equal(hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(media_local_relpath(hash, "png", out, sizeof(out)));
	assert_string_equal(out, "ba/78/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.png");
	assert_false(media_local_relpath("../../etc/passwd", "png", out, sizeof(out)));
	assert_false(media_local_relpath(hash, "php", out, sizeof(out)));
	snprintf(mc->url_prefix, sizeof(mc->url_prefix), "/media/");
	assert_true(media_local_url(&cfg, hash, "jpg", out, sizeof(out)));
	assert_string_equal(out, "/media/ba/78/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.jpg");
	snprintf(mc->url_prefix, sizeof(mc->url_prefix), "https://cdn.example/m");
	assert_true(media_local_url(&cfg, hash, "webp", out, sizeof(out)));
	assert_string_equal(out, "https://cdn.example/m/ba/78/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.webp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundary),
		cmocka_unit_test(test_multipart_ok),
		cmocka_unit_test(test_multipart_malformed),
		cmocka_unit_test(test_probe_valid),
		cmocka_unit_test(test_probe_refused),
		cmocka_unit_test(test_sha1),
		cmocka_unit_test(test_cloudinary_sign),
		cmocka_unit_test(test_local_names),
	};

	return cmocka_run_group_tests_name("media", tests, NULL, NULL);
}
