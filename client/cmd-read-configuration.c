/* cmd-read-configuration.c - `rdev read-configuration`: print a workspace's
 * configuration as JSON (common/cmd-read-configuration.c does the work). */
#include "client.h"

int
cmd_read_configuration_exec(int argc, char **argv)
{
	return cmd_read_configuration(&client_program, argc, argv);
}
