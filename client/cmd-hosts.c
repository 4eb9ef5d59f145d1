/* cmd-hosts.c - `rdev hosts`: the team's host pool (not built yet: the
 * entry says so and the command exits CMD_EXIT_UNAVAILABLE). */
#include "client.h"

const struct cmd_entry cmd_hosts_entry = { "hosts", "add|rm|ls ...",
	"manage the team's host pool", NULL, NULL };
