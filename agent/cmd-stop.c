/* cmd-stop.c - `stop PATH`: stop the workspace's container(s), keep them. */
#include "agent-cmds.h"

#include <stdio.h>
#include <stdlib.h>

#include "docker.h"
#include "workspace.h"

int
agent_cmd_stop(const struct cmd_program *prog, const struct cmd_entry *entry, int argc,
    char **argv)
{
	struct agent_cmd_args a;
	struct workspace ws;
	struct docker *d;
	char *cause = NULL, **ids = NULL;
	int rc = CMD_EXIT_FAILURE, n = 0;

	if (agent_cmd_args_parse(prog, entry, argc, argv, AGENT_ARG_FOLDER | AGENT_ARG_JSON,
	    &a) != 0)
		return CMD_EXIT_USAGE;
	d = docker_new(NULL);
	if (workspace_open(a.folder, a.config_file, d, &ws, &cause) != 0 ||
	    workspace_all_containers(&ws, d, &ids, &cause) != 0)
		goto out;
	for (char **id = ids; *id != NULL; id++, n++)
		if (docker_container_stop(d, *id, 10, &cause) != 0)
			goto out;
	if (a.json)
		printf("{\"outcome\":\"success\",\"stopped\":%d}\n", n);
	else if (n == 0)
		fprintf(stderr, "%s: no dev container for %s; nothing to stop\n", prog->name,
		    a.folder);
	rc = CMD_EXIT_OK;
out:
	if (cause != NULL)
		fprintf(stderr, "%s: stop: %s\n", prog->name, cause);
	free(cause);
	workspace_ids_free(ids);
	workspace_clear(&ws);
	docker_free(d);
	return rc;
}
