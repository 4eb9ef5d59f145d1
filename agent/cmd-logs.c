/* cmd-logs.c - `logs PATH [-f]`: the background lifecycle log of the
 * workspace's container. */
#include "agent-cmds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-ops.h"
#include "docker.h"

/* Copy fd to stdout; with follow, keep waiting for more while the container
 * exists (polling, like tail -f). */
static int
cmd_logs_copy(int fd, int follow, struct docker *d, const char *id)
{
	char buf[65536];
	ssize_t n;
	cJSON *info;

	for (;;) {
		while ((n = read(fd, buf, sizeof buf)) > 0)
			if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
				return -1;
		if (n < 0 && errno != EINTR)
			return -1;
		if (!follow)
			return 0;
		fflush(stdout);
		info = NULL;
		if (docker_container_inspect(d, id, &info, NULL) != 0 || info == NULL)
			return 0;
		cJSON_Delete(info);
		usleep(200 * 1000);
	}
}

int
agent_cmd_logs_on(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv)
{
	struct agent_cmd_args a;
	struct docker *d = NULL;
	char *cause = NULL, *path = NULL, *id = NULL, *up_cmd = NULL;
	int rc = CMD_EXIT_FAILURE, fd = -1;

	if (agent_cmd_args_parse(prog, entry, argc, argv,
	    AGENT_ARG_FOLDER | AGENT_ARG_FOLLOW | AGENT_ARG_JSON, &a) != 0)
		return CMD_EXIT_USAGE;
	if (a.json && a.follow)
		return cmd_usage_error(prog, entry, "--json and --follow do not mix");
	if (be->logs != NULL && a.follow) {
		fprintf(stderr, "%s: logs: --follow is not available for remote targets "
		    "yet\n", prog->name);
		return CMD_EXIT_UNAVAILABLE;
	}
	up_cmd = agent_up_command(prog->name, a.folder, a.config_file);
	if (a.json || be->logs != NULL) {
		cJSON *result = NULL;
		const cJSON *log;
		char *text;

		if ((be->logs != NULL ? be->logs(be->ctx, a.folder, a.config_file, 4u << 20,
		    &result, &cause) : agent_op_logs(a.folder, a.config_file, up_cmd,
		    64u << 20, &result, &cause)) != 0)
			goto out;
		log = cJSON_GetObjectItemCaseSensitive(result, "log");
		if (a.json) {
			text = cJSON_PrintUnformatted(result);
			printf("%s\n", text);
			free(text);
		} else if (cJSON_IsString(log) && log->valuestring[0] != '\0')
			fputs(log->valuestring, stdout);
		else
			fprintf(stderr, "%s: no background lifecycle output for this "
			    "container\n", prog->name);
		cJSON_Delete(result);
		rc = CMD_EXIT_OK;
		goto out;
	}
	if (agent_op_logs_locate(a.folder, a.config_file, up_cmd, &path, &id, &cause) != 0)
		goto out;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT) {
			fprintf(stderr, "%s: logs: %s: %s\n", prog->name, path, strerror(errno));
			goto out;
		}
		if (!a.follow) {
			fprintf(stderr, "%s: no background lifecycle output for this "
			    "container\n", prog->name);
			rc = CMD_EXIT_OK;
			goto out;
		}
		while ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			usleep(200 * 1000);
	}
	d = docker_new(NULL);
	rc = cmd_logs_copy(fd, a.follow, d, id) == 0 ? CMD_EXIT_OK : CMD_EXIT_FAILURE;
out:
	if (cause != NULL)
		fprintf(stderr, "%s: logs: %s\n", prog->name, cause);
	if (fd >= 0)
		close(fd);
	free(cause);
	free(path);
	free(id);
	free(up_cmd);
	docker_free(d);
	return rc;
}

int
agent_cmd_logs(const struct cmd_program *prog, const struct cmd_entry *entry, int argc,
    char **argv)
{
	return agent_cmd_logs_on(&agent_backend_local, prog, entry, argc, argv);
}
