/*
 * payments.h - the payments module: a gateway interface with two
 * providers (SSLCOMMERZ and cash on delivery), verified IPNs applied
 * exactly once, reconciliation of lost IPNs, and an insert-only log of
 * every gateway call. Protocol facts: ../shared/SSLCOMMERZ.md.
 *
 * Collections (money is BSON int64 minor units + the order's currency):
 *
 *   payment_attempts { _id, order_id, user_id, tran_id (unique, <= 30),
 *            provider: "sslcommerz", status: "open"|"void"|"paid"|"late"|
 *            "failed"|"cancelled"|"expired"|"unattempted", amount, currency,
 *            sessionkey, gateway_url, created_at, updated_at }
 *            One attempt per session; a new session voids the open one.
 *   payments { _id, order_id, tran_id (unique), val_id (unique),
 *            method: "sslcommerz"|"cod", amount, currency, bank_tran_id,
 *            card_type, card_brand, store_amount (text, as the gateway
 *            wrote it), risk_level: int32, risk_title, applied: "order"|
 *            "late" (the order was no longer waiting for it: refunded
 *            automatically), created_at }
 *   refunds { _id, order_id, payment_id, tran_id, bank_tran_id, amount,
 *            currency, reason, status: "requested"|"processing"|"refunded"|
 *            "cancelled"|"failed", method: "gateway"|"manual", refund_ref_id,
 *            idem_key (unique per order), by, polls, error, created_at,
 *            updated_at }
 *   on the order, written in each refund's transaction: refunds: [{ id,
 *            amount, currency, state, reason, updated_at }], refunded_total
 *            (int64, what reached refunded), cancel_refund_id (ObjectId|null:
 *            the refund of a cancelled paid order was requested, or nothing
 *            was left to refund)
 *   payment_logs { _id, order_id|null, tran_id|null, direction: "out"|"in",
 *            kind, method, url (no query), fields: {k: v} (masked),
 *            http_status, duration_ms, response (masked, bounded),
 *            error|null, at }  insert-only: nothing updates or deletes it.
 *
 * Exactly once: a payment is written in the transaction that moves the
 * order, and the unique indexes on payments.tran_id and payments.val_id
 * make a replayed or racing notification a no-op.
 */
#ifndef EM_PAYMENTS_PAYMENTS_H
#define EM_PAYMENTS_PAYMENTS_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "core/kv.h"
#include "store/store.h"

#define PAYMENTS_TRAN_ID_MAX     30
#define PAYMENTS_FORM_MAX_LEN    (16 * 1024)
#define PAYMENTS_FORM_MAX_FIELDS 96
#define PAYMENTS_FORM_KEY_MAX    64
#define PAYMENTS_FORM_VALUE_MAX  2048
#define PAYMENTS_AMOUNT_MAX      32
/* The largest amount a request may name, in minor units: far above any
 * order, and below INT64_MAX, at which json-c saturates a number too big
 * for int64 (a range up to INT64_MAX would take 2^63 as INT64_MAX). */
#define PAYMENTS_REQUEST_AMOUNT_MAX 1000000000000000LL

struct payments_config {
	char store_id[128];           /* EMPORIUM_SSLCOMMERZ_STORE_ID ("" = off) */
	char store_password[256];     /* EMPORIUM_SSLCOMMERZ_STORE_PASSWORD */
	char mode[16];                /* EMPORIUM_SSLCOMMERZ_MODE: sandbox|live */
	char base_url[EM_CONFIG_STR_MAX]; /* EMPORIUM_SSLCOMMERZ_BASE_URL ("" = by mode) */
	char shop_url[EM_CONFIG_STR_MAX]; /* EMPORIUM_SHOP_URL */
	int reconcile_after_s;        /* EMPORIUM_PAYMENT_RECONCILE_AFTER */
	int gateway_timeout_s;        /* EMPORIUM_SSLCOMMERZ_TIMEOUT */
};

extern const struct em_config_section payments_config_section;

static inline const struct payments_config *payments_config(const struct em_config *cfg)
{
	return em_config_section(cfg, &payments_config_section);
}

/* The gateway's base URL: the override, else the mode's host. */
const char *payments_sslcommerz_base(const struct payments_config *pc);

/* ---- amounts (amount.c; pure) ---- */

/* The number of minor-unit digits of a currency: 0 (JPY, KRW, ...) or 2. */
int payments_currency_exponent(const char *currency);

/*
 * "1234.50" from 123450 minor units with exponent 2 ("1234" with 0),
 * integer arithmetic only. False for a negative amount or when out is
 * too small.
 */
bool payments_amount_format(int64_t minor, int exponent, char *out, size_t size);

/*
 * An amount as the gateway takes it (total_amount, refund_amount: a
 * decimal with 2 places): "1234.50" from 123450 in a 2-decimal currency,
 * "1234.00" from 1234 in one without minor units (JPY).
 */
bool payments_amount_gateway(int64_t minor, const char *currency, char *out, size_t size);

/*
 * The exact inverse: digits, optionally '.' and up to `exponent` decimals;
 * further decimals are accepted only when they are zeros ("10.5000").
 * Refuses signs, spaces, exponents, empty parts ("1.", ".5"), a value
 * that does not fit an int64, and decimals that would lose precision.
 */
bool payments_amount_parse(const char *s, int exponent, int64_t *minor);

/* ---- the IPN form (form.c; pure) ---- */

/*
 * Parses an application/x-www-form-urlencoded body into out: at most
 * PAYMENTS_FORM_MAX_LEN bytes, PAYMENTS_FORM_MAX_FIELDS fields, keys of
 * 1..PAYMENTS_FORM_KEY_MAX bytes of [A-Za-z0-9_], values up to
 * PAYMENTS_FORM_VALUE_MAX decoded bytes with no NUL or control byte other
 * than tab. A key given twice is refused: a second value could hide
 * behind the signed one. EM_ERR_INVALID / EM_ERR_TOO_LARGE.
 */
bool payments_form_parse(const char *body, size_t len, struct em_kv_list *out,
			 struct em_error *err);

/* ---- verify_sign (sign.c) ---- */

/*
 * The documented signature of form: the fields named in verify_key (raw
 * values), plus store_passwd = hex md5(password), sorted by key, joined
 * "k=v&...", lowercase hex md5 into out. False when verify_key is missing
 * or names a field twice.
 */
bool payments_sslcommerz_sign(const struct em_kv_list *form, const char *password,
			      char out[33]);

/*
 * Whether form carries a valid verify_sign for password, compared in
 * constant time, and whether verify_key covers every field the payment
 * path reads (status, tran_id, val_id, amount, currency, store_id, ...):
 * a trimmed key would leave those unsigned.
 */
bool payments_sslcommerz_verify(const struct em_kv_list *form, const char *password);

/* Hex MD5 of len bytes (the protocol's own hash; not for anything else). */
bool payments_md5_hex(const void *data, size_t len, char out[33]);

/* ---- the gateway interface (gateway.c, sslcommerz.c, cod.c) ---- */

/* Where a gateway call is logged and which configuration it uses. */
struct payments_call {
	struct em_store *st;
	const struct em_config *cfg;
	const bson_oid_t *order_id;   /* may be NULL */
	const char *tran_id;          /* may be NULL */
};

struct payments_init_req {
	const bson_t *order;          /* the order document */
	const char *tran_id;
};

struct payments_init_res {
	char sessionkey[128];
	char gateway_url[1024];
};

/* A validated (or queried) transaction as the gateway reports it. */
struct payments_txn {
	char status[24];              /* VALID, VALIDATED, INVALID_TRANSACTION, PENDING, FAILED... */
	char tran_id[64];
	char val_id[64];
	char amount[PAYMENTS_AMOUNT_MAX];
	char currency[8];
	char currency_type[8];
	char currency_amount[PAYMENTS_AMOUNT_MAX];
	char store_amount[PAYMENTS_AMOUNT_MAX];
	char bank_tran_id[64];
	char card_type[64];
	char card_brand[32];
	int risk_level;
	char risk_title[64];
};

struct payments_refund_req {
	const char *bank_tran_id;
	int64_t amount;
	const char *currency;
	const char *remarks;
	const char *refe_id;          /* our refund id: a retried initiate is recognised */
};

struct payments_refund_res {
	char status[24];              /* success, processing, failed / refunded, cancelled */
	char refund_ref_id[64];
	char error[128];
};

/*
 * A provider. Each call logs itself to payment_logs. A transport failure,
 * a timeout or a 5xx answer is EM_ERR_BAD_GATEWAY (retry later); an answer
 * the gateway gave is a success with the answer's status for the caller
 * to judge.
 */
struct payments_gateway {
	const char *name;
	bool (*init)(const struct payments_call *c, const struct payments_init_req *in,
		     struct payments_init_res *out, struct em_error *err);
	bool (*validate)(const struct payments_call *c, const char *val_id,
			 struct payments_txn *out, struct em_error *err);
	bool (*refund)(const struct payments_call *c, const struct payments_refund_req *in,
		       struct payments_refund_res *out, struct em_error *err);
	bool (*refund_status)(const struct payments_call *c, const char *refund_ref_id,
			      struct payments_refund_res *out, struct em_error *err);
	/* The transactions of tran_id; *found = false when there is none. */
	bool (*query)(const struct payments_call *c, const char *tran_id, struct payments_txn *out,
		      bool *found, struct em_error *err);
};

extern const struct payments_gateway payments_sslcommerz;
extern const struct payments_gateway payments_cod;

/* The provider of a payment method ("sslcommerz", "cod"), or NULL. */
const struct payments_gateway *payments_gateway_find(const char *method);

/* ---- the payment log (log.c) ---- */

struct payments_log_entry {
	const char *direction;        /* "out" | "in" */
	const char *kind;             /* "session", "validation", "ipn", ... */
	const char *method;
	const char *url;              /* without a query string */
	const struct em_kv_list *fields;
	long http_status;
	int64_t duration_ms;
	const char *response;         /* may be NULL */
	const char *error;            /* may be NULL */
};

/*
 * Inserts one entry: store_passwd, verify_sign and verify_sign_sha2 are
 * masked, and the store password is masked wherever it appears in the
 * response text. A failure to log is logged, never fatal to the payment.
 */
void payments_log_write(const struct payments_call *c, const struct payments_log_entry *e);

/* Whether a field's value is secret (masked in logs). */
bool payments_log_field_secret(const char *key);

/* ---- applying a notification (apply.c) ---- */

enum payments_outcome {
	PAYMENTS_APPLIED,             /* the order is paid (or in review) now */
	PAYMENTS_REPLAY,              /* this payment was applied before: nothing done */
	PAYMENTS_LATE,                /* recorded; the order no longer waited: refund */
	PAYMENTS_MARKED,              /* a failed/cancelled attempt recorded */
	PAYMENTS_REFUSED,             /* failed a check: nothing changed */
	PAYMENTS_QUEUED,              /* the gateway could not be asked: retried by a job */
};

const char *payments_outcome_name(enum payments_outcome o);

/*
 * The one path every notification takes (IPN, success return, the retry
 * job, reconciliation): for a VALID status, the validation API with
 * val_id (never the notification alone), then tran_id / amount / currency
 * / store against the attempt and the order in the database, then in one
 * transaction, exactly once: the payment, the order's move (processing,
 * or payment_review at risk level 1) and its mail. A gateway that does not
 * answer enqueues the retry job when queue_on_failure (QUEUED); otherwise
 * it is EM_ERR_BAD_GATEWAY. tran_id and val_id come from a verified
 * notification or from the gateway's own query answer. status_in is the
 * notification's status (VALID, FAILED, ...).
 */
bool payments_notification_apply(struct em_store *st, const struct em_config *cfg,
				 const char *status_in, const char *tran_id, const char *val_id,
				 const char *store_id, bool queue_on_failure,
				 enum payments_outcome *outcome, bson_oid_t *order_id,
				 struct em_error *err);

/* Generates a fresh tran_id ("EM" + 24 hex digits). */
void payments_tran_id_new(char out[PAYMENTS_TRAN_ID_MAX + 1]);

#endif
