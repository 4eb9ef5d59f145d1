/* lifecycle-host.c - run initializeCommand on this host, in the workspace
 * folder, its commands' output streamed line by line (lifecycle.h): the
 * runner of the in-container steps (lifecycle-exec.c) with a context that
 * has no container, so the commands go through common/spawn.c. */
#include "lifecycle-internal.h"

#include <string.h>

int
lifecycle_run_initialize(const cJSON *command, const char *workspace_folder,
    lifecycle_output_fn out, lifecycle_flush_fn flush, lifecycle_event_fn event,
    void *arg, char **cause)
{
	struct lifecycle_ctx ctx;
	struct lifecycle_group g;
	int rc;

	if (command == NULL)
		return 0;
	if (lifecycle_group_parse(command, "initializeCommand", &g, cause) != 0) {
		lifecycle_group_clear(&g);
		return -1;
	}
	memset(&ctx, 0, sizeof ctx);
	ctx.workdir = workspace_folder;
	ctx.out = out;
	ctx.out_flush = flush;
	ctx.out_arg = arg;
	ctx.event = event;
	ctx.event_arg = arg;
	rc = g.ncmds > 0 ? lifecycle_group_run(&ctx, "initializeCommand", &g, cause) : 0;
	lifecycle_group_clear(&g);
	return rc;
}
