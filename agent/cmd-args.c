/* cmd-args.c - the arguments and the request the workspace commands share
 * (agent-cmds.h). */
#include "agent-cmds.h"

#include <stdlib.h>
#include <string.h>

#include "agent-ops.h"
#include "xmalloc.h"

int
agent_cmd_args_parse(const struct cmd_program *prog, const struct cmd_entry *entry,
    int argc, char **argv, unsigned allowed, struct agent_cmd_args *a)
{
	int i;

	memset(a, 0, sizeof *a);
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "--json") == 0 && (allowed & AGENT_ARG_JSON))
			a->json = 1;
		else if (strcmp(s, "--volumes") == 0 && (allowed & AGENT_ARG_VOLUMES))
			a->volumes = 1;
		else if (strcmp(s, "--all") == 0 && (allowed & AGENT_ARG_ALL))
			a->all = 1;
		else if ((strcmp(s, "-f") == 0 || strcmp(s, "--follow") == 0) &&
		    (allowed & AGENT_ARG_FOLLOW))
			a->follow = 1;
		else if (strcmp(s, "--config") == 0 && i + 1 < argc)
			a->config_file = argv[++i];
		else if (strncmp(s, "--config=", 9) == 0)
			a->config_file = s + 9;
		else if (strcmp(s, "--") == 0 && (allowed & AGENT_ARG_COMMAND)) {
			a->command = argv + i + 1;
			a->ncommand = argc - i - 1;
			break;
		} else if (s[0] == '-' && s[1] != '\0')
			return cmd_usage_error(prog, entry, "unknown option %s", s);
		else if (a->folder == NULL && (allowed & AGENT_ARG_FOLDER))
			a->folder = s;
		else if (allowed & AGENT_ARG_COMMAND) {
			a->command = argv + i;
			a->ncommand = argc - i;
			break;
		} else
			return cmd_usage_error(prog, entry, "unexpected argument %s", s);
	}
	if (a->folder == NULL && (allowed & AGENT_ARG_FOLDER))
		a->folder = ".";
	return 0;
}

cJSON *
agent_cmd_request(
    const char *prog_name, const char *op, const char *folder, const char *config_file)
{
	cJSON *req = cJSON_CreateObject();
	char *hint = agent_up_command(prog_name, folder, config_file);

	if (req == NULL)
		fatal("out of memory");
	cJSON_AddStringToObject(req, "op", op);
	cJSON_AddStringToObject(req, "workspace", folder);
	if (config_file != NULL)
		cJSON_AddStringToObject(req, "config", config_file);
	cJSON_AddStringToObject(req, "hint", hint);
	free(hint);
	return req;
}
