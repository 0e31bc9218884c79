/*
 * admin_cmds.h - the emporium-admin commands that live in modules. Each
 * takes the loaded configuration and the command's own argv (argv[0] is
 * the command name) and returns the process exit code.
 */
#ifndef EM_APP_ADMIN_CMDS_H
#define EM_APP_ADMIN_CMDS_H

#include "core/config.h"

/* create-admin --email E: password from stdin (prompted on a terminal). */
int auth_cmd_create_admin(const struct em_config *cfg, int argc, char **argv);
/* seed-demo: the demo catalog, idempotently. */
int catalog_cmd_seed_demo(const struct em_config *cfg, int argc, char **argv);

#endif
