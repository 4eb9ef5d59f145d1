/* cmd-down.c - `down PATH [--volumes]`: remove the workspace's container(s).
 * Named volumes are kept unless --volumes; for Compose the project's networks
 * go too. A workspace with no container is a clean no-op. */
#include "agent-cmds.h"

#include <stdio.h>
#include <stdlib.h>

#include "agent-ops.h"
#include "json-get.h"

int
agent_cmd_down(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv)
{
	struct agent_cmd_args a;
	cJSON *res, *req;
	char *cause = NULL;
	long n;

	if (agent_cmd_args_parse(prog, entry, argc, argv,
		AGENT_ARG_FOLDER | AGENT_ARG_JSON | AGENT_ARG_VOLUMES, &a) != 0)
		return CMD_EXIT_USAGE;
	req = agent_cmd_request(prog->name, "down", a.folder, a.config_file);
	cJSON_AddBoolToObject(req, "volumes", a.volumes);
	if (be->call(be->ctx, req, NULL, &res, &cause) != 0) {
		fprintf(stderr, "%s: down: %s\n", prog->name, cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	if (json_get_int(res, "removed", 0, 1000000, &n) != 0) {
		fprintf(stderr, "%s: down: the answer has no \"removed\" count\n",
		    prog->name);
		cJSON_Delete(res);
		return CMD_EXIT_FAILURE;
	}
	if (a.json)
		printf("{\"outcome\":\"success\",\"removed\":%ld}\n", n);
	else if (n == 0)
		fprintf(stderr, "%s: no dev container for %s; nothing to remove\n",
		    prog->name, a.folder);
	cJSON_Delete(res);
	return CMD_EXIT_OK;
}
