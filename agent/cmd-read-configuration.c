/* cmd-read-configuration.c - `rdev-agent read-configuration`: print a
 * workspace's configuration as JSON (common/cmd-read-configuration.c does the
 * work). */
#include "agent.h"

int
agent_read_configuration_exec(int argc, char **argv)
{
	return cmd_read_configuration(&agent_program, argc, argv);
}
