/* cmd-up.c - `rdev up TARGET`: create or resume the dev container (the
 * shared command, agent-cmds.h, on TARGET's backend); for a remote TARGET
 * then forward its forwardPorts through the broker. */
#include "client.h"

#include <stdio.h>
#include <string.h>

#include "remote.h"

static int
cmd_up_exec(int argc, char **argv)
{
	struct client_target ct;
	cJSON *ports = NULL;
	int rc, auto_forward = client_take_flag(&argc, argv, "--auto-forward");

	if ((rc = client_target_open("up", argc, argv, 0, &ct)) != CMD_EXIT_OK)
		goto out;
	if (ct.remote == NULL) {
		if (auto_forward)
			fprintf(stderr,
			    "warning: --auto-forward: not done: rdev "
			    "forwards ports for remote targets only yet; from this "
			    "machine, reach them at the container's address\n");
		rc = agent_cmd_up(
		    &ct.be, &client_program, &cmd_up_entry, ct.argc, ct.argv, NULL);
		goto out;
	}
	rc = agent_cmd_up(
	    &ct.be, &client_program, &cmd_up_entry, ct.argc, ct.argv, &ports);
	if (rc == CMD_EXIT_OK &&
	    client_forward_ports(ct.remote, ct.t.path,
		client_config_arg(ct.argc, ct.argv),
		client_has_flag(ct.argc, ct.argv, "--json") ||
		    client_log_json(ct.argc, ct.argv),
		auto_forward, ports) != 0)
		rc = CMD_EXIT_FAILURE;
out:
	cJSON_Delete(ports);
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_up_entry = { "up",
	"TARGET " AGENT_CMD_UP_USAGE " [--auto-forward]",
	"create or resume the dev container for TARGET",
	CLIENT_TARGET_HELP
	"\n" AGENT_CMD_UP_HELP
	"  --auto-forward  (remote targets) also forward ports the container\n"
	"                  starts listening on later (see `rdev forward --auto`)\n",
	cmd_up_exec };
