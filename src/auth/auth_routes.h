/*
 * auth_routes.h - the auth module's route tables, for its descriptor
 * (src/auth/module.c): /auth/... (auth_routes.c), /me and /me/addresses
 * (me_routes.c), /admin/users (admin_routes.c), and OpenID Connect
 * sign-in, GET .../oauth/{provider}/authorize and .../callback
 * (oauth_routes.c).
 */
#ifndef EM_AUTH_AUTH_ROUTES_H
#define EM_AUTH_AUTH_ROUTES_H

#include "core/config.h"
#include "http/router.h"

extern const struct em_route_table auth_routes;
extern const struct em_route_table auth_me_routes;
extern const struct em_route_table auth_mfa_routes;
extern const struct em_route_table auth_admin_routes;
extern const struct em_route_table auth_oauth_routes;

/*
 * The "auth_mail" job (src/auth/mail_job.c): payload {to, template,
 * purpose}; looks the account up, makes the code and mails it.
 */
struct jobs_worker;
struct jobs_job;
bool auth_mail_run(struct jobs_worker *w, const struct jobs_job *job, struct em_error *err);

/* emporium-admin create-admin --email E: the password from standard input
 * (prompted on a terminal); returns the exit code (src/auth/admin_cmd.c). */
int auth_cmd_create_admin(const struct em_config *cfg, int argc, char **argv);

#endif
