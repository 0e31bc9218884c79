/*
 * media_routes.h - the media module's route table, for its descriptor
 * (src/media/module.c):
 *   POST/PATCH/DELETE /api/v1/admin/products/{id}/images[/{image_id}]
 */
#ifndef EM_MEDIA_MEDIA_ROUTES_H
#define EM_MEDIA_MEDIA_ROUTES_H

#include "http/router.h"

extern const struct em_route_table media_routes;

#endif
