/*
 * oauth_accounts.c - the account an OpenID Connect identity maps to: an existing
 * link, the account with the same verified address (linked then), or a
 * new verified customer.
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
#include "core/time.h"

/* ---- accounts ---- */

/* Finds one user by filter; *found false when none. Projection: what we need. */
static bool oauth_user_find(struct em_store *st, const bson_t *filter, bson_t *out,
			    bool *found, struct em_error *err)
{
	mongoc_collection_t *coll = store_collection(st, "users");
	bson_t *opts = BCON_NEW("limit", BCON_INT64(1), "projection", "{", "_id", BCON_INT32(1),
				"disabled", BCON_INT32(1), "email_verified", BCON_INT32(1),
				"oauth", BCON_INT32(1), "role", BCON_INT32(1), "}");
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
	const bson_t *doc;
	bson_error_t berr;
	bool ok = true;

	*found = false;
	if (mongoc_cursor_next(cur, &doc)) {
		bson_copy_to(doc, out);
		*found = true;
	} else if (mongoc_cursor_error(cur, &berr)) {
		store_error_set(err, &berr, "find user");
		ok = false;
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	mongoc_collection_destroy(coll);
	return ok;
}

static bool oauth_doc_bool(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_BOOL(&it) &&
	       bson_iter_bool(&it);
}

/* True for a staff or admin account (anything but customer). */
static bool oauth_doc_privileged(const bson_t *doc)
{
	bson_iter_t it;

	return !(bson_iter_init_find(&it, doc, "role") && BSON_ITER_HOLDS_UTF8(&it) &&
		 strcmp(bson_iter_utf8(&it, NULL), "customer") == 0);
}

static bool oauth_doc_id(const bson_t *doc, bson_oid_t *out)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_OID(&it))
		return false;
	bson_oid_copy(bson_iter_oid(&it), out);
	return true;
}

/* True when doc.oauth has an entry of provider (any subject). */
static bool oauth_doc_linked_to(const bson_t *doc, const char *provider)
{
	bson_iter_t it, arr, el;

	if (!bson_iter_init_find(&it, doc, "oauth") || !BSON_ITER_HOLDS_ARRAY(&it) ||
	    !bson_iter_recurse(&it, &arr))
		return false;
	while (bson_iter_next(&arr)) {
		if (BSON_ITER_HOLDS_DOCUMENT(&arr) && bson_iter_recurse(&arr, &el) &&
		    bson_iter_find(&el, "provider") && BSON_ITER_HOLDS_UTF8(&el) &&
		    strcmp(bson_iter_utf8(&el, NULL), provider) == 0)
			return true;
	}
	return false;
}

static bool oauth_user_by_link(struct em_store *st, const char *provider, const char *sub,
			       bson_t *out, bool *found, struct em_error *err)
{
	bson_t filter = BSON_INITIALIZER, oauth, em;
	bool ok;

	BSON_APPEND_DOCUMENT_BEGIN(&filter, "oauth", &oauth);
	BSON_APPEND_DOCUMENT_BEGIN(&oauth, "$elemMatch", &em);
	BSON_APPEND_UTF8(&em, "provider", provider);
	BSON_APPEND_UTF8(&em, "subject", sub);
	bson_append_document_end(&oauth, &em);
	bson_append_document_end(&filter, &oauth);
	ok = oauth_user_find(st, &filter, out, found, err);
	bson_destroy(&filter);
	return ok;
}

/* Adds (provider, sub) to an existing account found by e-mail. */
static bool oauth_user_link(struct em_store *st, const bson_t *user, const char *provider,
			    const char *sub, struct em_error *err)
{
	mongoc_collection_t *coll = NULL;
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, ne, push, link, set;
	bson_t reply;
	bson_error_t berr;
	bson_oid_t id;
	bson_iter_t it;
	int64_t now = em_now_ms();
	bool was_verified = oauth_doc_bool(user, "email_verified"), ok = false;

	if (!oauth_doc_id(user, &id)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "a user without an _id");
		return false;
	}
	/*
	 * Whoever registered this address without confirming it may not own
	 * it, and may hold sessions from before (a squatter signed in with a
	 * password it set). The provider just proved the caller owns the
	 * address: every session of the account ends first, then its
	 * password goes with the link. Revoking first means a failure below
	 * can only cost the squatter its sessions, never keep them.
	 */
	if (!was_verified && !auth_user_sessions_revoke(st, NULL, &id, err))
		return false;
	BSON_APPEND_OID(&filter, "_id", &id);
	/* Guards against a concurrent link of the same provider. */
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "oauth.provider", &ne);
	BSON_APPEND_UTF8(&ne, "$ne", provider);
	bson_append_document_end(&filter, &ne);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$push", &push);
	BSON_APPEND_DOCUMENT_BEGIN(&push, "oauth", &link);
	BSON_APPEND_UTF8(&link, "provider", provider);
	BSON_APPEND_UTF8(&link, "subject", sub);
	BSON_APPEND_DATE_TIME(&link, "linked_at", now);
	bson_append_document_end(&push, &link);
	bson_append_document_end(&update, &push);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_BOOL(&set, "email_verified", true);
	BSON_APPEND_DATE_TIME(&set, "updated_at", now);
	/* the unconfirmed password stops working (pre-hijacking defence) */
	if (!was_verified)
		BSON_APPEND_NULL(&set, "password_hash");
	bson_append_document_end(&update, &set);
	coll = store_collection(st, "users");
	if (!mongoc_collection_update_one(coll, &filter, &update, NULL, &reply, &berr)) {
		store_error_set(err, &berr, "link account");
		goto done_reply;
	}
	if (!bson_iter_init_find(&it, &reply, "matchedCount") || bson_iter_as_int64(&it) != 1) {
		em_error_set(err, EM_ERR_CONFLICT, NULL,
			     "this account is already linked to another identity at this provider");
		goto done_reply;
	}
	em_info("oauth %s: linked an existing account%s", provider,
		was_verified ? "" : " (unverified before: sessions revoked, password removed)");
	ok = true;
done_reply:
	bson_destroy(&reply);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&update);
	return ok;
}

static bool oauth_user_create(struct em_store *st, const char *provider,
			      const struct oauth_claims *c, const char *email, bson_oid_t *id,
			      bool *duplicate, struct em_error *err)
{
	mongoc_collection_t *coll;
	bson_t doc = BSON_INITIALIZER, arr, link;
	bson_error_t berr;
	int64_t now = em_now_ms();
	char name[101];
	bool ok;

	*duplicate = false;
	/* A display name without control characters; the e-mail's local part
	 * when the provider sent none. */
	{
		const char *src = c->name[0] ? c->name : email;
		size_t n = strnlen(src, sizeof(name) - 1);

		/* cut at 100 bytes, never inside a UTF-8 sequence (a cut
		 * one would fail the check below and lose the whole name) */
		if (src[n] != '\0')
			while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
				n--;
		memcpy(name, src, n);
		name[n] = '\0';
	}
	if (!c->name[0])
		name[strcspn(name, "@")] = '\0';
	for (char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (!bson_utf8_validate(name, strlen(name), false))
		snprintf(name, sizeof(name), "%s", "Customer");
	bson_oid_init(id, NULL);
	BSON_APPEND_OID(&doc, "_id", id);
	BSON_APPEND_UTF8(&doc, "email", email);
	BSON_APPEND_UTF8(&doc, "name", name);
	BSON_APPEND_UTF8(&doc, "role", "customer");
	BSON_APPEND_BOOL(&doc, "email_verified", true);
	BSON_APPEND_BOOL(&doc, "disabled", false);
	BSON_APPEND_NULL(&doc, "password_hash");
	BSON_APPEND_NULL(&doc, "phone");
	BSON_APPEND_ARRAY_BEGIN(&doc, "oauth", &arr);
	BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &link);
	BSON_APPEND_UTF8(&link, "provider", provider);
	BSON_APPEND_UTF8(&link, "subject", c->sub);
	BSON_APPEND_DATE_TIME(&link, "linked_at", now);
	bson_append_document_end(&arr, &link);
	bson_append_array_end(&doc, &arr);
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "updated_at", now);
	coll = store_collection(st, "users");
	ok = mongoc_collection_insert_one(coll, &doc, NULL, NULL, &berr);
	if (!ok) {
		*duplicate = store_error_is_duplicate(&berr);
		store_error_set(err, &berr, "create account");
	} else {
		em_info("oauth %s: created an account", provider);
	}
	mongoc_collection_destroy(coll);
	bson_destroy(&doc);
	return ok;
}

bool oauth_user_resolve(struct em_store *st, const char *provider,
			const struct oauth_claims *c, bson_oid_t *user_id, bool *created,
			struct em_error *err)
{
	char email[256];
	bool found, duplicate;

	*created = false;
	/* Twice at most: a concurrent first login may create the account
	 * between our lookup and our insert; then it is found the second time. */
	for (int attempt = 0; attempt < 2; attempt++) {
		bson_t user = BSON_INITIALIZER, filter = BSON_INITIALIZER;
		bool ok = false, disabled;

		if (!oauth_user_by_link(st, provider, c->sub, &user, &found, err))
			goto next;
		if (!found) {
			if (!c->email[0] || !c->email_verified) {
				em_error_set(err, EM_ERR_FORBIDDEN, NULL,
					     "the sign-in provider did not confirm an e-mail "
					     "address for this account");
				goto next;
			}
			/* the same rules as registration and login, so an account
			 * made here can also sign in and reset its password */
			if (!auth_email_normalize(c->email, email, sizeof(email), err)) {
				em_error_set(err, EM_ERR_FORBIDDEN, NULL,
					     "the sign-in provider sent an unusable e-mail address");
				goto next;
			}
			BSON_APPEND_UTF8(&filter, "email", email);
			if (!oauth_user_find(st, &filter, &user, &found, err))
				goto next;
			if (found && oauth_doc_linked_to(&user, provider)) {
				em_error_set(err, EM_ERR_CONFLICT, NULL,
					     "this account is already linked to another identity "
					     "at this provider");
				goto next;
			}
		}
		if (found) {
			disabled = oauth_doc_bool(&user, "disabled");
			if (disabled) {
				em_error_set(err, EM_ERR_FORBIDDEN, NULL, "this account is disabled");
				goto next;
			}
			if (!oauth_doc_id(&user, user_id)) {
				em_error_set(err, EM_ERR_INTERNAL, NULL, "a user without an _id");
				goto next;
			}
			/* Found by e-mail, not by link: link it now - but never a
			 * staff or admin account: whoever controls that address at
			 * a provider would get the shop's back office. */
			if (!oauth_doc_linked_to(&user, provider) && oauth_doc_privileged(&user)) {
				em_info("oauth %s: refused to link a staff or admin account by e-mail",
					provider);
				em_error_set(err, EM_ERR_FORBIDDEN, NULL,
					     "this account cannot be signed into with this provider");
				goto next;
			}
			if (!oauth_doc_linked_to(&user, provider) &&
			    !oauth_user_link(st, &user, provider, c->sub, err))
				goto next;
			ok = true;
		} else if (oauth_user_create(st, provider, c, email, user_id, &duplicate, err)) {
			*created = true;
			ok = true;
		} else if (duplicate && attempt == 0) {
			em_error_clear(err);
			bson_destroy(&user);
			bson_destroy(&filter);
			continue;
		}
next:
		bson_destroy(&user);
		bson_destroy(&filter);
		return ok;
	}
	return false;
}
