/*
 * totp.c - a second factor for staff and admin accounts: time-based
 * one-time passwords (RFC 6238) and single-use recovery codes.
 *
 * The shared secret is 32 random bytes (libsodium), shown once as base32
 * for the authenticator app and stored only encrypted (crypto_secretbox,
 * a key derived from EMPORIUM_JWT_SECRET: a database dump alone does not
 * give the secrets away). Codes are HMAC-SHA-256 (RFC 6238's SHA-256
 * variant: libsodium has no SHA-1; the otpauth URI says algorithm=SHA256),
 * 6 digits, 30 s steps, accepted one step either side; the three
 * candidates are all computed and compared in constant time, and a used
 * step is recorded (mfa.last_step, moved forward atomically) so one code
 * cannot be replayed. Recovery codes are stored as HMACs and pulled out
 * of the account as they are used.
 *
 * users.mfa = { enabled: bool, secret_box: base64 (nonce | box),
 *               pending_box: base64 (an enrolment not yet confirmed),
 *               last_step: int64, recovery: [hex HMAC], enrolled_at: date }
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/accounts.h"
#include "auth/auth_config.h"
#include "core/log.h"

#define TOTP_STEP_S 30
#define TOTP_BOX_LEN (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + AUTH_TOTP_SECRET_BYTES)

/* The secretbox key: HMAC-SHA-256(EMPORIUM_JWT_SECRET, "totp-secret"). */
static void auth_totp_key(const struct em_config *cfg, unsigned char key[32])
{
	const char *secret = auth_config(cfg)->jwt_secret;
	crypto_auth_hmacsha256_state st;

	/* the state API takes a key of any length (the secret is >= 32 bytes) */
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"totp-secret", 11);
	crypto_auth_hmacsha256_final(&st, key);
}

uint32_t auth_totp_code(const unsigned char *secret, size_t len, uint64_t step)
{
	crypto_auth_hmacsha256_state st;
	unsigned char msg[8], mac[crypto_auth_hmacsha256_BYTES];
	unsigned off;
	uint32_t bin;

	for (int i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(step & 0xff);
		step >>= 8;
	}
	crypto_auth_hmacsha256_init(&st, secret, len);
	crypto_auth_hmacsha256_update(&st, msg, sizeof(msg));
	crypto_auth_hmacsha256_final(&st, mac);
	/* RFC 4226 dynamic truncation */
	off = mac[sizeof(mac) - 1] & 0x0f;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	      ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	sodium_memzero(mac, sizeof(mac));
	return bin % 1000000;
}

void auth_base32(const unsigned char *in, size_t len, char *out, size_t size)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	size_t o = 0;
	uint32_t buf = 0;
	int bits = 0;

	for (size_t i = 0; i < len; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5 && o + 1 < size) {
			out[o++] = alphabet[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0 && o + 1 < size)
		out[o++] = alphabet[(buf << (5 - bits)) & 31];
	if (size)
		out[o] = '\0';
}

bool auth_totp_seal(const struct em_config *cfg, const unsigned char secret[AUTH_TOTP_SECRET_BYTES],
		    char *out, size_t size)
{
	unsigned char key[32], box[TOTP_BOX_LEN];

	if (size < sodium_base64_ENCODED_LEN(TOTP_BOX_LEN, sodium_base64_VARIANT_ORIGINAL))
		return false;
	auth_totp_key(cfg, key);
	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, secret, AUTH_TOTP_SECRET_BYTES, box,
			      key);
	sodium_bin2base64(out, size, box, sizeof(box), sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof(key));
	return true;
}

bool auth_totp_open(const struct em_config *cfg, const char *sealed,
		    unsigned char secret[AUTH_TOTP_SECRET_BYTES])
{
	unsigned char key[32], box[TOTP_BOX_LEN];
	size_t len = 0;
	bool ok;

	if (!sealed || sodium_base642bin(box, sizeof(box), sealed, strlen(sealed), NULL, &len, NULL,
					 sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len != sizeof(box))
		return false;
	auth_totp_key(cfg, key);
	ok = crypto_secretbox_open_easy(secret, box + crypto_secretbox_NONCEBYTES,
					sizeof(box) - crypto_secretbox_NONCEBYTES, box, key) == 0;
	sodium_memzero(key, sizeof(key));
	return ok;
}

bool auth_totp_match(const unsigned char *secret, size_t len, const char *code, int64_t now,
		     int64_t *step_out)
{
	char want[7], got[7];
	int64_t step = now / TOTP_STEP_S;
	bool ok = false;

	*step_out = -1;
	if (!code || strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return false;
	memcpy(got, code, 7);
	/* all three candidates, every time: no early exit to time */
	for (int d = -1; d <= 1; d++) {
		snprintf(want, sizeof(want), "%06u",
			 (unsigned)auth_totp_code(secret, len, (uint64_t)(step + d)));
		if (sodium_memcmp(want, got, 6) == 0) {
			ok = true;
			*step_out = step + d;
		}
	}
	sodium_memzero(want, sizeof(want));
	return ok;
}

void auth_recovery_hash(const struct em_config *cfg, const bson_oid_t *user_id,
			const char *code, char out[65])
{
	char hex[25], msg[80];

	bson_oid_to_string(user_id, hex);
	snprintf(msg, sizeof(msg), "%s|%s", hex, code);
	auth_hmac_hex(cfg, "mfa-recovery", msg, out);
	sodium_memzero(msg, sizeof(msg));
}

void auth_recovery_code_new(char out[AUTH_RECOVERY_CODE_LEN + 1])
{
	unsigned char rnd[7];
	char b32[16];

	/* 50 bits, shown as xxxxx-xxxxx (base32, lower case) */
	randombytes_buf(rnd, sizeof(rnd));
	auth_base32(rnd, sizeof(rnd), b32, sizeof(b32));
	for (int i = 0; i < 10; i++)
		b32[i] = (char)(b32[i] >= 'A' && b32[i] <= 'Z' ? b32[i] + 32 : b32[i]);
	snprintf(out, AUTH_RECOVERY_CODE_LEN + 1, "%.5s-%.5s", b32, b32 + 5);
	sodium_memzero(rnd, sizeof(rnd));
}

/*
 * Records step as used, atomically: only a step after the last one used
 * moves mfa.last_step, so a code replayed (or sent twice at once) loses.
 */
static bool auth_totp_step_take(struct em_store *st, const bson_oid_t *user_id, int64_t step,
				bool *taken, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "users");
	bson_t *filter = BCON_NEW("_id", BCON_OID(user_id), "mfa.enabled", BCON_BOOL(true),
				  "$or", "[", "{", "mfa.last_step", "{", "$lt", BCON_INT64(step), "}",
				  "}", "{", "mfa.last_step", "{", "$exists", BCON_BOOL(false), "}", "}",
				  "]");
	bson_t *update = BCON_NEW("$set", "{", "mfa.last_step", BCON_INT64(step), "}");
	bson_t reply;
	bson_error_t berr;
	bson_iter_t it;
	bool ok = mongoc_collection_update_one(coll, filter, update, NULL, &reply, &berr);

	*taken = false;
	if (!ok)
		store_error_set(err, &berr, "record a second-factor step");
	else
		*taken = bson_iter_init_find(&it, &reply, "modifiedCount") &&
			 bson_iter_as_int64(&it) == 1;
	bson_destroy(&reply);
	bson_destroy(update);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	return ok;
}

/* Uses a recovery code: pulls its hash out of the account, atomically. */
static bool auth_recovery_take(struct em_store *st, const struct em_config *cfg,
			       const bson_oid_t *user_id, const char *code, bool *taken,
			       struct em_error *err)
{
	mongoc_collection_t *coll;
	bson_t *filter, *update, reply;
	bson_error_t berr;
	bson_iter_t it;
	char hash[65], norm[AUTH_RECOVERY_CODE_LEN + 1];
	size_t n = 0;
	bool ok;

	*taken = false;
	/* accept capitals and a missing dash; anything else cannot match */
	for (const char *p = code; *p && n < AUTH_RECOVERY_CODE_LEN; p++) {
		char c = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);

		if (n == 5 && c != '-')
			norm[n++] = '-';
		if (n < AUTH_RECOVERY_CODE_LEN)
			norm[n++] = c;
	}
	norm[n] = '\0';
	if (n != AUTH_RECOVERY_CODE_LEN || strlen(code) > 16)
		return true;
	auth_recovery_hash(cfg, user_id, norm, hash);
	coll = store_collection(st, "users");
	filter = BCON_NEW("_id", BCON_OID(user_id), "mfa.enabled", BCON_BOOL(true), "mfa.recovery",
			  BCON_UTF8(hash));
	update = BCON_NEW("$pull", "{", "mfa.recovery", BCON_UTF8(hash), "}");
	ok = mongoc_collection_update_one(coll, filter, update, NULL, &reply, &berr);
	if (!ok)
		store_error_set(err, &berr, "use a recovery code");
	else
		*taken = bson_iter_init_find(&it, &reply, "modifiedCount") &&
			 bson_iter_as_int64(&it) == 1;
	bson_destroy(&reply);
	bson_destroy(update);
	bson_destroy(filter);
	mongoc_collection_destroy(coll);
	sodium_memzero(norm, sizeof(norm));
	return ok;
}

bool auth_mfa_enabled(const bson_t *user)
{
	bson_iter_t it, sub;

	return bson_iter_init_find(&it, user, "mfa") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
	       bson_iter_recurse(&it, &sub) && bson_iter_find(&sub, "enabled") &&
	       BSON_ITER_HOLDS_BOOL(&sub) && bson_iter_bool(&sub);
}

/* The string mfa.<key> of user, or NULL. */
static const char *auth_mfa_str(const bson_t *user, const char *key)
{
	bson_iter_t it, sub;

	if (bson_iter_init_find(&it, user, "mfa") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
	    bson_iter_recurse(&it, &sub) && bson_iter_find(&sub, key) && BSON_ITER_HOLDS_UTF8(&sub))
		return bson_iter_utf8(&sub, NULL);
	return NULL;
}

bool auth_mfa_check(struct em_store *st, const struct em_config *cfg, const bson_t *user,
		    const char *totp, const char *recovery, bool *passed, struct em_error *err)
{
	unsigned char secret[AUTH_TOTP_SECRET_BYTES];
	bson_oid_t uid;
	int64_t step;
	bool taken = false, ok = false;

	*passed = false;
	if (!auth_doc_oid(user, "_id", &uid)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "user without an id");
		return false;
	}
	if (totp) {
		if (!auth_totp_open(cfg, auth_mfa_str(user, "secret_box"), secret)) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot open the second-factor secret");
			goto done;
		}
		if (auth_totp_match(secret, sizeof(secret), totp, (int64_t)time(NULL), &step) &&
		    !auth_totp_step_take(st, &uid, step, &taken, err))
			goto done;
	} else if (recovery) {
		if (!auth_recovery_take(st, cfg, &uid, recovery, &taken, err))
			goto done;
		if (taken)
			em_info("second factor: a recovery code was used");
	}
	*passed = taken;
	ok = true;
done:
	sodium_memzero(secret, sizeof(secret));
	return ok;
}
