/*
 * email_job.c - the "email" job: payload {to, template, vars} -> a
 * rendered multipart mail -> the SMTP server.
 *
 * Delivery is at-least-once, as SMTP itself is; this is how close to
 * exactly-once it gets, and where it cannot:
 *  - The Message-ID is derived from the job's _id, which the unique
 *    dedupe key makes stable for one event: every attempt of one job
 *    sends the same Message-ID, so a duplicate is recognisable downstream.
 *  - Right after the server accepts the message, the job records sent_at
 *    (guarded by our lease). An attempt that finds sent_at set does not
 *    send again. So a crash or a database failure after the recording -
 *    while marking the job done - never duplicates a mail.
 *  - The one window left: the server accepted, and the worker died (or
 *    the database was unreachable) before sent_at was written. The job's
 *    lease then expires and the mail is sent a second time, with the same
 *    Message-ID. Closing it would need the SMTP server to take part in
 *    our transaction, which SMTP cannot do.
 *  - The SMTP transfer is bounded by half the lease, so a slow server
 *    cannot make a send outlive its lease and race a second worker.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/time.h"
#include "http/metrics.h"
#include "jobs/jobs.h"
#include "jobs/mail.h"

/* Reads payload[key] as a UTF-8 string or fails naming the field. */
static bool email_payload_string(const bson_t *payload, const char *key, const char **out,
				 struct em_error *err)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, payload, key) || !BSON_ITER_HOLDS_UTF8(&it)) {
		em_error_set(err, EM_ERR_INVALID, key,
			     "malformed email payload: %s must be a string", key);
		return false;
	}
	*out = bson_iter_utf8(&it, NULL);
	return true;
}

/* Records that the server accepted the mail, so no later attempt resends it. */
static void email_record_sent(struct jobs_worker *w, const struct jobs_job *job,
			      const char *message_id)
{
	mongoc_collection_t *coll = store_collection(&w->store, "jobs");
	bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set;
	bson_error_t berr;

	BSON_APPEND_OID(&filter, "_id", &job->id);
	BSON_APPEND_UTF8(&filter, "lease_owner", w->owner);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_DATE_TIME(&set, "sent_at", em_now_ms());
	BSON_APPEND_UTF8(&set, "message_id", message_id);
	bson_append_document_end(&update, &set);
	if (!mongoc_collection_update_one(coll, &filter, &update, NULL, NULL, &berr))
		/* the documented duplicate window: a retry would send it again */
		em_err("job %s: mail accepted but sent_at not recorded (%s); if the job is "
		       "retried the mail goes out twice (same Message-ID)",
		       job->id_hex, berr.message);
	bson_destroy(&filter);
	bson_destroy(&update);
	mongoc_collection_destroy(coll);
}

bool jobs_email_run(struct jobs_worker *w, const struct jobs_job *job, struct em_error *err)
{
	struct mail_rendered r = { 0 };
	const char *to, *tpl, *at;
	char from_name[256], from_addr[256], message_id[320];
	struct mail_message m;
	bson_iter_t it;
	const uint8_t *data;
	uint32_t len;
	bson_t vars;
	char *msg = NULL;
	size_t msg_len = 0;
	long timeout_s;
	bool ok = false;

	if (bson_iter_init_find(&it, job->doc, "sent_at") && BSON_ITER_HOLDS_DATE_TIME(&it)) {
		em_info("job %s: the mail was already accepted by the SMTP server; not resending",
			job->id_hex);
		return true;
	}
	if (!email_payload_string(&job->payload, "to", &to, err) ||
	    !email_payload_string(&job->payload, "template", &tpl, err))
		return false;
	if (!mail_address_valid(to)) {
		em_error_set(err, EM_ERR_INVALID, "to", "malformed email payload: to is not an address");
		return false;
	}
	if (!mail_template_name_valid(tpl)) {
		em_error_set(err, EM_ERR_INVALID, "template",
			     "malformed email payload: template is not a template name");
		return false;
	}
	if (!bson_iter_init_find(&it, &job->payload, "vars") || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
		em_error_set(err, EM_ERR_INVALID, "vars",
			     "malformed email payload: vars must be a document");
		return false;
	}
	bson_iter_document(&it, &len, &data);
	if (!bson_init_static(&vars, data, len)) {
		em_error_set(err, EM_ERR_INVALID, "vars", "malformed email payload: corrupt vars");
		return false;
	}
	if (!mail_from_parse(jobs_config(&w->cfg)->mail_from, from_name, sizeof(from_name), from_addr,
			     sizeof(from_addr), err))
		return false;
	if (!mail_render(jobs_config(&w->cfg)->templates_dir, tpl, &vars, &r, err))
		return false;
	at = strchr(from_addr, '@');
	snprintf(message_id, sizeof(message_id), "emporium.job.%s@%s", job->id_hex, at + 1);
	memset(&m, 0, sizeof(m));
	m.from = jobs_config(&w->cfg)->mail_from;
	m.to = to;
	m.subject = r.subject;
	m.text = r.text;
	m.html = r.html;
	m.message_id = message_id;
	m.date = em_now_ms() / 1000;
	msg = mail_message_build(&m, &msg_len, err);
	if (!msg)
		goto done;
	timeout_s = jobs_config(&w->cfg)->lease_s / 2;
	if (timeout_s < 2)
		timeout_s = 2;
	if (timeout_s > 120)
		timeout_s = 120;
	if (!mail_smtp_send(w->curl, &w->cfg, from_addr, to, msg, msg_len, timeout_s, err)) {
		em_metrics_event(EM_EV_MAIL_FAILED);
		goto done;
	}
	em_metrics_event(EM_EV_MAIL_SENT);
	email_record_sent(w, job, message_id);
	ok = true;
done:
	bson_free(msg);
	mail_rendered_release(&r);
	return ok;
}
