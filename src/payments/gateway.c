/*
 * gateway.c - the providers by payment method, and cash on delivery: no
 * gateway at all (staff confirm the order and record the cash collected),
 * so every call of the interface is refused with a reason a caller can
 * show, rather than pretending to succeed.
 */
#include <string.h>

#include "payments/payments.h"

static bool cod_none(struct em_error *err)
{
	em_error_set(err, EM_ERR_CONFLICT, "payment_method",
		     "cash on delivery has no gateway: staff record it on the order");
	return false;
}

static bool cod_init(const struct payments_call *c, const struct payments_init_req *in,
		     struct payments_init_res *out, struct em_error *err)
{
	(void)c; (void)in; (void)out;
	return cod_none(err);
}

static bool cod_validate(const struct payments_call *c, const char *val_id,
			 struct payments_txn *out, struct em_error *err)
{
	(void)c; (void)val_id; (void)out;
	return cod_none(err);
}

static bool cod_refund(const struct payments_call *c, const struct payments_refund_req *in,
		       struct payments_refund_res *out, struct em_error *err)
{
	(void)c; (void)in; (void)out;
	return cod_none(err);
}

static bool cod_refund_status(const struct payments_call *c, const char *ref,
			      struct payments_refund_res *out, struct em_error *err)
{
	(void)c; (void)ref; (void)out;
	return cod_none(err);
}

static bool cod_query(const struct payments_call *c, const char *tran_id,
		      struct payments_txn *out, bool *found, struct em_error *err)
{
	(void)c; (void)tran_id; (void)out;
	*found = false;
	return cod_none(err);
}

const struct payments_gateway payments_cod = {
	.name = "cod",
	.init = cod_init,
	.validate = cod_validate,
	.refund = cod_refund,
	.refund_status = cod_refund_status,
	.query = cod_query,
};

const struct payments_gateway *payments_gateway_find(const char *method)
{
	if (method && strcmp(method, "sslcommerz") == 0)
		return &payments_sslcommerz;
	if (method && strcmp(method, "cod") == 0)
		return &payments_cod;
	return NULL;
}
