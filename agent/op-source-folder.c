/* op-source-folder.c - the "source-folder" operation: where a SOURCE's
 * workspace is on this host (source-root.h), for the commands that follow
 * `rdev up HOST: SOURCE` (exec, stop, ...): {"folder":PATH,"exists":BOOL}. */
#include "agent-ops.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "source-root.h"

static int
op_source_folder_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	char *folder = source_root_folder(agent_op_req_string(r, "name"), cause);
	struct stat sb;

	if (folder == NULL)
		return -1;
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "folder", folder);
	cJSON_AddBoolToObject(
	    *result, "exists", stat(folder, &sb) == 0 && S_ISDIR(sb.st_mode));
	free(folder);
	return 0;
}

const struct agent_op agent_op_source_folder = { "source-folder", 0, op_source_folder_run,
	"the folder of a workspace source \"name\"" };
