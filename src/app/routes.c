/*
 * routes.c - the one place that lists every module's route table.
 * Adding a module means adding its table here, nothing else.
 */
#include "app/app.h"
#include "auth/auth.h"
#include "auth/oauth.h"
#include "catalog/catalog.h"
#include "inventory/inventory.h"
#include "jobs/jobs.h"
#include "media/media.h"
#include "ops/ops.h"

const struct em_route_table *const em_app_routes[] = {
	&ops_health_routes,
	&ops_csp_routes,
	&auth_oauth_routes,
	&auth_routes,
	&auth_me_routes,
	&auth_admin_routes,
	&media_routes,
	&jobs_admin_routes,
	&catalog_category_routes,
	&catalog_product_routes,
	&catalog_admin_product_routes,
	&inventory_routes,
	NULL,
};

/* Bearer access tokens (src/auth/authenticate.c). */
const em_authenticate_fn em_app_authenticate = auth_request_authenticate;
