/*
 * mail_job.c - the "auth_mail" job: every mail the accounts flows send
 * (verification code, reset code, "this address already has an account").
 *
 * The web request only enqueues {to, template, purpose} - the same for an
 * address with an account and one without - and answers; everything that
 * depends on the account (does it exist, is it verified or disabled, a new
 * code) happens here, in emporium-worker. So /forgot and /resend take the
 * same time whatever the address (no timing enumeration), and the plain
 * one-time code never lands in the jobs collection: it is made here,
 * stored as an HMAC (otp.c), put into the message in memory and zeroed.
 * Done jobs (kept 7 days) hold no code.
 *
 * Delivery goes through the "email" handler (src/jobs/email_job.c) with
 * the payload it expects built in memory, so the Message-ID, the sent_at
 * record and the at-least-once rules are the same as for every mail. A
 * retry after a failed send replaces its own code (auth_code_issue's
 * job_id), since the first one was never read by anybody.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/accounts.h"
#include "auth/auth_routes.h"
#include "core/log.h"
#include "jobs/jobs.h"

static bool auth_mail_payload_str(const struct jobs_job *job, const char *key, const char **out,
				  struct em_error *err)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, &job->payload, key) || !BSON_ITER_HOLDS_UTF8(&it)) {
		em_error_set(err, EM_ERR_INVALID, key, "malformed auth_mail payload: no %s", key);
		return false;
	}
	*out = bson_iter_utf8(&it, NULL);
	return true;
}

bool auth_mail_run(struct jobs_worker *w, const struct jobs_job *job, struct em_error *err)
{
	const char *to, *tpl, *purpose, *name;
	bson_t user = BSON_INITIALIZER, payload = BSON_INITIALIZER, vars;
	struct jobs_job mail;
	bson_oid_t uid;
	char code[7] = "";
	bool found = false, sent = false, ok = false, with_code;

	if (!auth_mail_payload_str(job, "to", &to, err) ||
	    !auth_mail_payload_str(job, "template", &tpl, err) ||
	    !auth_mail_payload_str(job, "purpose", &purpose, err))
		goto done;
	with_code = strcmp(purpose, "verify") == 0 || strcmp(purpose, "reset") == 0;
	if (!with_code && strcmp(purpose, "exists") != 0) {
		em_error_set(err, EM_ERR_INVALID, "purpose", "malformed auth_mail payload: purpose");
		goto done;
	}
	if (!auth_user_find_by_email(&w->store, to, &user, &found, err))
		goto done;
	/* Nothing to send is a finished job: no account, a disabled one, or
	 * a verification code for an address already verified. */
	if (!found || auth_doc_bool(&user, "disabled") || !auth_doc_oid(&user, "_id", &uid) ||
	    (strcmp(purpose, "verify") == 0 && auth_doc_bool(&user, "email_verified"))) {
		ok = true;
		goto done;
	}
	if (with_code) {
		if (!auth_code_issue(&w->store, &w->cfg, &uid, purpose, &job->id, &sent, code, err))
			goto done;
		if (!sent) { /* another job's code went out within the cooldown */
			ok = true;
			goto done;
		}
	}
	name = auth_doc_utf8(&user, "name");
	BSON_APPEND_UTF8(&payload, "to", to);
	BSON_APPEND_UTF8(&payload, "template", tpl);
	BSON_APPEND_DOCUMENT_BEGIN(&payload, "vars", &vars);
	BSON_APPEND_UTF8(&vars, "name", name ? name : "");
	if (with_code)
		BSON_APPEND_UTF8(&vars, "code", code);
	bson_append_document_end(&payload, &vars);
	mail = *job;
	mail.payload = payload; /* a view for the email handler; ours to destroy */
	ok = jobs_email_run(w, &mail, err);
done:
	sodium_memzero(code, sizeof(code));
	/* the in-memory payload held the code: wipe it before freeing */
	if (payload.len > 5 && bson_get_data(&payload))
		sodium_memzero((void *)bson_get_data(&payload), payload.len);
	bson_destroy(&payload);
	bson_destroy(&user);
	return ok;
}
