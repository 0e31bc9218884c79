/*
 * oauth_jwk.c - base64url, the PKCE challenge, and an RSA JWK turned into the
 * PEM public key libjwt verifies with.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/accounts.h"
#include "auth/auth.h"
#include "auth/oauth.h"
#include "auth/oauth_internal.h"
#include "core/alloc.h"
#include "core/curl_body.h"
#include "core/json.h"
#include "core/log.h"

/* ---- base64url and small crypto ---- */

/* Decodes unpadded base64url; a new buffer (free it) with a NUL after it. */
unsigned char *oauth_b64url_decode(const char *in, size_t in_len, size_t *out_len)
{
	unsigned char *out = xmalloc(in_len * 3 / 4 + 2);
	const char *end = NULL;

	if (sodium_base642bin(out, in_len * 3 / 4 + 1, in, in_len, NULL, out_len, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != in + in_len) {
		free(out);
		return NULL;
	}
	out[*out_len] = '\0';
	return out;
}

bool oauth_pkce_challenge(const char *verifier, char *out, size_t size)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	size_t n = verifier ? strlen(verifier) : 0;

	if (n < 43 || n > 128 || size < sodium_base64_ENCODED_LEN(sizeof(digest),
				sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)verifier[i]) && !strchr("-._~", verifier[i]))
			return false;
	crypto_hash_sha256(digest, (const unsigned char *)verifier, n);
	sodium_bin2base64(out, size, digest, sizeof(digest),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return true;
}

/* ---- JWK -> PEM ---- */

/* Appends a DER length. */
static size_t der_len(unsigned char *p, size_t len)
{
	if (len < 0x80) {
		p[0] = (unsigned char)len;
		return 1;
	}
	if (len < 0x100) {
		p[0] = 0x81;
		p[1] = (unsigned char)len;
		return 2;
	}
	p[0] = 0x82;
	p[1] = (unsigned char)(len >> 8);
	p[2] = (unsigned char)len;
	return 3;
}

/* Appends a DER INTEGER of the unsigned big-endian v (leading zeros dropped). */
static size_t der_uint(unsigned char *p, const unsigned char *v, size_t n)
{
	size_t k = 0;
	bool pad;

	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	pad = v[0] & 0x80; /* keep it positive */
	p[k++] = 0x02;
	k += der_len(p + k, n + pad);
	if (pad)
		p[k++] = 0;
	memcpy(p + k, v, n);
	return k + n;
}

char *oauth_jwk_rsa_pem(json_object *jwk, struct em_error *err)
{
	/* AlgorithmIdentifier { rsaEncryption, NULL } */
	static const unsigned char alg_id[] = {
		0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
	};
	const char *n_b64, *e_b64;
	unsigned char *n = NULL, *e = NULL, *rsa = NULL, *spki = NULL;
	size_t nlen = 0, elen = 0, rlen, slen, k;
	char *b64 = NULL, *pem = NULL;
	size_t b64len, pemcap, pos;

	if (!oauth_json_str(jwk, "n", &n_b64) || !oauth_json_str(jwk, "e", &e_b64) ||
	    !(n = oauth_b64url_decode(n_b64, strlen(n_b64), &nlen)) ||
	    !(e = oauth_b64url_decode(e_b64, strlen(e_b64), &elen))) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL, "the JWK has no valid n and e");
		goto done;
	}
	while (nlen > 0 && n[0] == 0) {
		memmove(n, n + 1, nlen - 1);
		nlen--;
	}
	if (nlen < 256 || nlen > 1024 || elen == 0 || elen > 8 || !(e[elen - 1] & 1)) {
		em_error_set(err, EM_ERR_UNAUTHENTICATED, NULL,
			     "the JWK's RSA key is too weak or malformed");
		goto done;
	}
	/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } */
	rsa = xmalloc(nlen + elen + 32);
	k = 4; /* room for the SEQUENCE header, written once the length is known */
	k += der_uint(rsa + k, n, nlen);
	k += der_uint(rsa + k, e, elen);
	rlen = k - 4;
	spki = xmalloc(rlen + sizeof(alg_id) + 32);
	/* SubjectPublicKeyInfo ::= SEQUENCE { algorithm, BIT STRING { RSAPublicKey } } */
	{
		unsigned char hdr[4];
		size_t hl = 0, body, bitlen;

		hdr[hl++] = 0x30;
		hl += der_len(hdr + hl, rlen);
		bitlen = 1 + hl + rlen;
		body = sizeof(alg_id) + 1 + (bitlen < 0x80 ? 1 : bitlen < 0x100 ? 2 : 3) + bitlen;
		slen = 0;
		spki[slen++] = 0x30;
		slen += der_len(spki + slen, body);
		memcpy(spki + slen, alg_id, sizeof(alg_id));
		slen += sizeof(alg_id);
		spki[slen++] = 0x03;
		slen += der_len(spki + slen, bitlen);
		spki[slen++] = 0x00; /* no unused bits */
		memcpy(spki + slen, hdr, hl);
		slen += hl;
		memcpy(spki + slen, rsa + 4, rlen);
		slen += rlen;
	}
	b64len = sodium_base64_ENCODED_LEN(slen, sodium_base64_VARIANT_ORIGINAL);
	b64 = xmalloc(b64len);
	sodium_bin2base64(b64, b64len, spki, slen, sodium_base64_VARIANT_ORIGINAL);
	b64len = strlen(b64);
	pemcap = b64len + b64len / 64 + 64;
	pem = xmalloc(pemcap);
	pos = (size_t)snprintf(pem, pemcap, "-----BEGIN PUBLIC KEY-----\n");
	for (size_t i = 0; i < b64len; i += 64) {
		size_t chunk = b64len - i < 64 ? b64len - i : 64;

		memcpy(pem + pos, b64 + i, chunk);
		pos += chunk;
		pem[pos++] = '\n';
	}
	snprintf(pem + pos, pemcap - pos, "-----END PUBLIC KEY-----\n");
done:
	free(n);
	free(e);
	free(rsa);
	free(spki);
	free(b64);
	return pem;
}
