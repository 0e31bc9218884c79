/*
 * password.c - password policy and hashing, and the validation of the
 * other identity fields (e-mail address, name, phone).
 *
 * Hashes are argon2id strings from libsodium's crypto_pwhash_str at the
 * configured cost (OWASP: at least 19 MiB and 2 passes). The string holds
 * its own parameters, so raising the cost later still verifies old hashes.
 */
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "auth/accounts.h"
#include "auth/auth.h"
#include "core/log.h"

/* The shipped list (data/common-passwords.txt), sorted, lower-case,
 * compiled in by src/auth/local.mk so no file has to be found at run time. */
extern const char *const auth_common_passwords[];
extern const size_t auth_common_passwords_count;

static int auth_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool auth_password_is_common(const char *password)
{
	char low[AUTH_PASSWORD_MAX * 4 + 1];
	const char *key = low;
	size_t n = strlen(password);

	if (n >= sizeof(low))
		return false;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)password[i]);
	return bsearch(&key, auth_common_passwords, auth_common_passwords_count,
		       sizeof(auth_common_passwords[0]), auth_cmp_str) != NULL;
}

/* Code points in valid UTF-8 (the JSON parser has validated it). */
static size_t auth_utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

bool auth_password_check(const char *password, struct em_error *err)
{
	size_t chars = auth_utf8_chars(password);

	if (chars < AUTH_PASSWORD_MIN || chars > AUTH_PASSWORD_MAX) {
		em_error_setc(err, EM_ERR_INVALID, "password",
			      chars < AUTH_PASSWORD_MIN ? EM_CODE_TOO_SHORT : EM_CODE_TOO_LONG,
			      "password must be %d to %d characters long", AUTH_PASSWORD_MIN,
			      AUTH_PASSWORD_MAX);
		return false;
	}
	if (auth_password_is_common(password)) {
		em_error_set(err, EM_ERR_INVALID, "password",
			     "password is too common; choose one that is not on lists of "
			     "leaked passwords");
		return false;
	}
	return true;
}

bool auth_password_hash(const struct em_config *cfg, const char *password, char *out,
			size_t size, struct em_error *err)
{
	if (!auth_sodium_ready()) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libsodium cannot be initialised");
		return false;
	}
	if (size < crypto_pwhash_STRBYTES) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "password hash buffer too small");
		return false;
	}
	if (crypto_pwhash_str_alg(out, password, strlen(password),
				  (unsigned long long)auth_config(cfg)->argon2_iterations,
				  (size_t)auth_config(cfg)->argon2_memory_kib * 1024,
				  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "argon2id hashing failed (out of memory?)");
		return false;
	}
	return true;
}

/* A hash of a random password at the configured cost, made once per
 * process: verifying against it costs what a real verification costs. */
static char auth_dummy_hash[crypto_pwhash_STRBYTES];

bool auth_password_init(const struct em_config *cfg, struct em_error *err)
{
	char rnd[48];
	bool ok;

	/* At process start, not at the first unknown address: made lazily,
	 * the first "no such account" of each worker cost two hashes, which
	 * a timing probe could tell from a wrong password. */
	if (auth_dummy_hash[0])
		return true;
	if (!auth_sodium_ready()) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libsodium cannot be initialised");
		return false;
	}
	auth_random_token(rnd, sizeof(rnd), 24);
	ok = auth_password_hash(cfg, rnd, auth_dummy_hash, sizeof(auth_dummy_hash), err);
	sodium_memzero(rnd, sizeof(rnd));
	return ok;
}

bool auth_password_verify(const struct em_config *cfg, const char *hash,
			  const char *password)
{
	if (!auth_sodium_ready())
		return false;
	if (!hash || strncmp(hash, "$argon2id$", 10) != 0) {
		if (!auth_dummy_hash[0]) { /* a process that skipped auth_password_init */
			struct em_error err = EM_ERROR_INIT;

			if (!auth_password_init(cfg, &err))
				em_warn("dummy hash: %s", err.message);
		}
		/* The result is meaningless; only the time it takes matters. */
		if (auth_dummy_hash[0] &&
		    crypto_pwhash_str_verify(auth_dummy_hash, password, strlen(password)) == 0)
			em_debug("dummy hash matched");
		return false;
	}
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

static bool auth_email_local_char(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+/=?^_`{|}~.-", c) != NULL;
}

bool auth_email_normalize(const char *in, char *out, size_t size, struct em_error *err)
{
	const char *end, *at;
	size_t len;

	while (*in == ' ' || *in == '\t')
		in++;
	end = in + strlen(in);
	while (end > in && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	len = (size_t)(end - in);
	if (len == 0 || len > AUTH_EMAIL_MAX || len >= size)
		goto bad;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[len] = '\0';
	at = strchr(out, '@');
	if (!at || at == out || strchr(at + 1, '@') || (size_t)(at - out) > 64)
		goto bad;
	for (const char *p = out; p < at; p++)
		if (!auth_email_local_char((unsigned char)*p))
			goto bad;
	if (out[0] == '.' || at[-1] == '.' || strstr(out, ".."))
		goto bad;
	/* domain: labels of [a-z0-9-], not starting or ending with '-', and a dot */
	if (!strchr(at + 1, '.'))
		goto bad;
	for (const char *p = at + 1, *label = p;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || label[0] == '-' || p[-1] == '-' || p - label > 63)
				goto bad;
			if (*p == '\0')
				break;
			label = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '-') {
			goto bad;
		}
	}
	return true;
bad:
	em_error_setc(err, EM_ERR_INVALID, "email", EM_CODE_INVALID_FORMAT,
		      "email must be a valid e-mail address");
	return false;
}

bool auth_name_check(const char *field, const char *name, struct em_error *err)
{
	size_t len = strlen(name);
	bool blank = true;

	if (len == 0 || len > AUTH_NAME_MAX) {
		em_error_set(err, EM_ERR_INVALID, field, "%s must be 1 to %d bytes long", field,
			     AUTH_NAME_MAX);
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_FORMAT,
				      "%s must not contain control characters", field);
			return false;
		}
		if (*p != ' ')
			blank = false;
	}
	if (blank) {
		em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_TOO_SHORT, "%s must not be blank", field);
		return false;
	}
	return true;
}

/*
 * Decodes one UTF-8 sequence at *p (advancing it) into *cp; false on a
 * malformed, overlong or surrogate sequence.
 */
static bool auth_utf8_next(const unsigned char **p, uint32_t *cp)
{
	const unsigned char *s = *p;
	uint32_t c;
	int n;

	if (s[0] < 0x80) {
		*cp = s[0];
		*p = s + 1;
		return true;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		c = s[0] & 0x1f;
		n = 1;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		c = s[0] & 0x0f;
		n = 2;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		c = s[0] & 0x07;
		n = 3;
	} else {
		return false;
	}
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return false;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x800) || (n == 3 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return false;
	*cp = c;
	*p = s + n + 1;
	return true;
}

/*
 * Code points a person's name may hold beyond ASCII letters, digits,
 * space, '\'' and '-': everything from U+00C0 up, except the blocks of
 * punctuation, symbols, invisible and bidi controls, private use,
 * specials and emoji, where a message or a disguised link would hide.
 */
static bool auth_name_cp_allowed(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		       (c >= '0' && c <= '9') || c == ' ' || c == '\'' || c == '-';
	if (c < 0xc0 || c == 0xd7 || c == 0xf7)   /* Latin-1 controls, signs, symbols */
		return false;
	if (c >= 0x2000 && c <= 0x2bff)           /* punctuation, symbols, arrows, bidi */
		return false;
	if (c >= 0x2e00 && c <= 0x2e7f)           /* supplemental punctuation */
		return false;
	if (c >= 0x3000 && c <= 0x303f)           /* CJK punctuation (。 is a dot) */
		return false;
	if (c >= 0xd800 && c <= 0xf8ff)           /* surrogates, private use */
		return false;
	if (c >= 0xfe00 && c <= 0xfe6f)           /* variation selectors, small forms */
		return false;
	if (c >= 0xfeff && c <= 0xff65)           /* BOM, fullwidth ASCII (．／：＠) */
		return false;
	if (c >= 0xfff0 && c <= 0xffff)           /* specials */
		return false;
	if (c >= 0x10000 && !(c >= 0x20000 && c <= 0x3ffff)) /* emoji, symbols; CJK ext kept */
		return false;
	return true;
}

bool auth_person_name_check(const char *field, const char *name, struct em_error *err)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t n = 0;
	bool blank = true;
	uint32_t c;

	while (*p) {
		if (!auth_utf8_next(&p, &c) || !auth_name_cp_allowed(c)) {
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_FORMAT,
				      "%s may hold letters, digits, spaces, ' and - only", field);
			return false;
		}
		if (c != ' ')
			blank = false;
		if (++n > AUTH_PERSON_NAME_MAX) {
			em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_TOO_LONG,
				      "%s must be at most %d characters", field, AUTH_PERSON_NAME_MAX);
			return false;
		}
	}
	if (n == 0 || blank) {
		em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_TOO_SHORT, "%s must not be blank", field);
		return false;
	}
	return true;
}

bool auth_phone_check(const char *field, const char *phone, struct em_error *err)
{
	size_t digits = 0, len = strlen(phone);
	const char *p = phone;

	if (*p == '+')
		p++;
	for (; *p; p++) {
		if (isdigit((unsigned char)*p))
			digits++;
		else if (!strchr(" -()", *p))
			digits = 100; /* any other character: refuse below */
	}
	if (len > 20 || digits < 7 || digits > 15) {
		em_error_setc(err, EM_ERR_INVALID, field, EM_CODE_INVALID_FORMAT,
			      "%s must be a phone number: an optional +, 7 to 15 digits, "
			      "spaces, '-', '(' or ')'", field);
		return false;
	}
	return true;
}
