/*
 * smtp.c - one message to one recipient over SMTP with libcurl.
 *
 * libcurl speaks the protocol (EHLO, STARTTLS, AUTH, MAIL FROM, RCPT TO,
 * DATA with dot-stuffing); this file only sets it up. The easy handle is
 * the worker's and is reused, so consecutive mails go over one connection
 * (curl_easy_reset keeps the connection cache).
 */
#include <curl/curl.h>
#include <string.h>

#include "jobs/jobs.h"
#include "jobs/mail.h"

struct smtp_upload {
	const char *p;
	size_t left;
};

static size_t smtp_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct smtp_upload *u = ud;
	size_t n = size * nitems;

	if (n > u->left)
		n = u->left;
	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

bool mail_smtp_send(void *curl, const struct em_config *cfg, const char *from_addr,
		    const char *to, const char *msg, size_t len, long timeout_s,
		    struct em_error *err)
{
	CURL *c = curl;
	struct curl_slist *rcpt = NULL;
	struct smtp_upload up = { msg, len };
	char from[300], to_env[300], errbuf[CURL_ERROR_SIZE];
	long code = 0, use_ssl;
	CURLcode rc;
	bool ok = false;

	if (!mail_address_valid(from_addr) || !mail_address_valid(to)) {
		em_error_set(err, EM_ERR_INVALID, "to", "not a deliverable mail address");
		return false;
	}
	snprintf(from, sizeof(from), "<%s>", from_addr);
	snprintf(to_env, sizeof(to_env), "<%s>", to);
	rcpt = curl_slist_append(NULL, to_env);
	if (!rcpt) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "out of memory");
		return false;
	}
	if (strcmp(jobs_config(cfg)->smtp_tls, "none") == 0)
		use_ssl = CURLUSESSL_NONE;
	else if (strcmp(jobs_config(cfg)->smtp_tls, "starttls") == 0)
		use_ssl = CURLUSESSL_TRY;
	else
		use_ssl = CURLUSESSL_ALL;
	errbuf[0] = '\0';
	curl_easy_reset(c);
	if (curl_easy_setopt(c, CURLOPT_URL, jobs_config(cfg)->smtp_url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_READFUNCTION, smtp_read) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_READDATA, &up) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s < 10 ? timeout_s : 10L) !=
		    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s) != CURLE_OK) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libcurl refused an SMTP option");
		goto done;
	}
	if (jobs_config(cfg)->smtp_user[0] &&
	    (curl_easy_setopt(c, CURLOPT_USERNAME, jobs_config(cfg)->smtp_user) != CURLE_OK ||
	     curl_easy_setopt(c, CURLOPT_PASSWORD, jobs_config(cfg)->smtp_password) != CURLE_OK)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libcurl refused the SMTP credentials");
		goto done;
	}
	/* a private CA (a local relay, the tests' STARTTLS catcher): the
	 * certificate is still verified, against that bundle */
	if (jobs_config(cfg)->smtp_ca_file[0] &&
	    curl_easy_setopt(c, CURLOPT_CAINFO, jobs_config(cfg)->smtp_ca_file) != CURLE_OK) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "libcurl refused the SMTP CA file");
		goto done;
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		/*
		 * A 5xx reply is the server saying "never": retrying cannot help
		 * (unknown mailbox, policy). Everything else - refused
		 * connection, timeout, 4xx - may pass, so it is retried.
		 */
		em_error_set(err, code >= 500 && code < 600 ? EM_ERR_INVALID : EM_ERR_UNAVAILABLE,
			     code >= 500 && code < 600 ? "to" : NULL, "SMTP: %s%s%s (reply %ld)",
			     curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf, code);
		goto done;
	}
	ok = true;
done:
	/* the handle must not keep pointers into this frame */
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(c, CURLOPT_READDATA, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(rcpt);
	return ok;
}
