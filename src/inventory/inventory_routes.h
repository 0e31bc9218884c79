/*
 * inventory_routes.h - the inventory module's route table, for its
 * descriptor (src/inventory/module.c):
 *   POST /api/v1/admin/inventory/adjustments
 *   GET  /api/v1/admin/inventory/low-stock
 */
#ifndef EM_INVENTORY_INVENTORY_ROUTES_H
#define EM_INVENTORY_INVENTORY_ROUTES_H

#include "http/router.h"

extern const struct em_route_table inventory_routes;

#endif
