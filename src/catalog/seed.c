/* Placeholder until the catalog work lands: seed-demo is not built yet. */
#include <stdio.h>

#include "app/admin_cmds.h"

int catalog_cmd_seed_demo(const struct em_config *cfg, int argc, char **argv)
{
	(void)cfg;
	(void)argc;
	(void)argv;
	fprintf(stderr, "emporium-admin: seed-demo is not available in this build\n");
	return 1;
}
