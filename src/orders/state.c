/*
 * state.c - the order workflow as data: which state may go to which, and
 * who may move it (orders.h lists the edges).
 */
#include <stdio.h>
#include <string.h>

#include "orders/orders.h"

static const char *const orders_status_names[ORDERS_STATUS_COUNT] = {
	[ORDERS_PENDING] = "pending",
	[ORDERS_PAYMENT_REVIEW] = "payment_review",
	[ORDERS_PROCESSING] = "processing",
	[ORDERS_SHIPPED] = "shipped",
	[ORDERS_DELIVERED] = "delivered",
	[ORDERS_RETURNED] = "returned",
	[ORDERS_CANCELLED] = "cancelled",
};

/* One edge and the actors that may take it (a bit per enum orders_actor). */
struct orders_edge {
	enum orders_status from, to;
	unsigned actors;
};

#define BY(a) (1u << (a))
#define CUSTOMER BY(ORDERS_ACTOR_CUSTOMER)
#define STAFF BY(ORDERS_ACTOR_STAFF)
#define SYSTEM BY(ORDERS_ACTOR_SYSTEM)

static const struct orders_edge orders_edges[] = {
	{ ORDERS_PENDING, ORDERS_PROCESSING, STAFF | SYSTEM },
	{ ORDERS_PENDING, ORDERS_PAYMENT_REVIEW, SYSTEM },
	{ ORDERS_PENDING, ORDERS_CANCELLED, CUSTOMER | STAFF | SYSTEM },
	{ ORDERS_PAYMENT_REVIEW, ORDERS_PROCESSING, STAFF },
	{ ORDERS_PAYMENT_REVIEW, ORDERS_CANCELLED, STAFF },
	{ ORDERS_PROCESSING, ORDERS_SHIPPED, STAFF },
	{ ORDERS_PROCESSING, ORDERS_CANCELLED, STAFF },
	{ ORDERS_SHIPPED, ORDERS_DELIVERED, STAFF },
	{ ORDERS_DELIVERED, ORDERS_RETURNED, SYSTEM },
};

const char *orders_status_name(enum orders_status s)
{
	return (unsigned)s < ORDERS_STATUS_COUNT ? orders_status_names[s] : "unknown";
}

bool orders_status_parse(const char *name, enum orders_status *out)
{
	for (int i = 0; name && i < ORDERS_STATUS_COUNT; i++)
		if (strcmp(name, orders_status_names[i]) == 0) {
			*out = (enum orders_status)i;
			return true;
		}
	return false;
}

bool orders_transition_allowed(enum orders_status from, enum orders_status to,
			       enum orders_actor actor)
{
	for (size_t i = 0; i < sizeof(orders_edges) / sizeof(orders_edges[0]); i++)
		if (orders_edges[i].from == from && orders_edges[i].to == to)
			return (orders_edges[i].actors & BY(actor)) != 0;
	return false;
}

void orders_transitions_list(enum orders_status from, enum orders_actor actor, char *out,
			     size_t size)
{
	size_t len = 0;

	if (size)
		out[0] = '\0';
	for (size_t i = 0; i < sizeof(orders_edges) / sizeof(orders_edges[0]); i++) {
		int n;

		if (orders_edges[i].from != from || !(orders_edges[i].actors & BY(actor)))
			continue;
		n = snprintf(out + len, size - len, "%s%s", len ? ", " : "",
			     orders_status_name(orders_edges[i].to));
		if (n < 0 || (size_t)n >= size - len)
			return;
		len += (size_t)n;
	}
}

bool orders_status_holds_stock(enum orders_status s)
{
	return s == ORDERS_PENDING || s == ORDERS_PAYMENT_REVIEW || s == ORDERS_PROCESSING;
}
