/* Placeholder until the accounts work lands: create-admin is not built yet. */
#include <stdio.h>

#include "app/admin_cmds.h"

int auth_cmd_create_admin(const struct em_config *cfg, int argc, char **argv)
{
	(void)cfg;
	(void)argc;
	(void)argv;
	fprintf(stderr, "emporium-admin: create-admin is not available in this build\n");
	return 1;
}
