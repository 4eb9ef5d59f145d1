/* cmd-read-configuration.h - `read-configuration`, shared by rdev and
 * rdev-agent.
 *
 *   PROG read-configuration [PATH] [--config FILE] [--include-merged-configuration]
 *
 * Prints one line of JSON in the shape of the reference CLI's
 * `devcontainer read-configuration --workspace-folder PATH
 * [--include-merged-configuration]`: {"configuration": {..., "configFilePath":
 * {...}}, "workspace": {...}, "mergedConfiguration": {...}}. Warnings go to
 * stderr ("PROG: warning: FILE:LINE:COL: ..."), errors too ("PROG: FILE:LINE:COL:
 * ...", exit 1). The image's devcontainer.metadata label is read with
 * `docker image inspect` when the merged configuration is asked for.
 */
#ifndef RDEV_CMD_READ_CONFIGURATION_H
#define RDEV_CMD_READ_CONFIGURATION_H

#include <cjson/cJSON.h>

#include "cmd.h"
#include "config.h"

#define CMD_READ_CONFIGURATION_HELP \
	"PATH is the workspace folder (default: the current directory).\n" \
	"\n" \
	"options:\n" \
	"  --config FILE                   use FILE instead of looking for\n" \
	"                                  .devcontainer/devcontainer.json,\n" \
	"                                  .devcontainer.json or\n" \
	"                                  .devcontainer/*/devcontainer.json\n" \
	"  --include-merged-configuration  also print the configuration merged\n" \
	"                                  with the image's devcontainer.metadata\n" \
	"  --no-mount-workspace-git-root   mount PATH itself, not its git work tree\n" \
	"\n" \
	"The output matches `devcontainer read-configuration` of the reference\n" \
	"CLI where both print the same thing.\n"

/* Run the command for prog (whose table has a "read-configuration" entry);
 * argv[0] is "read-configuration". Returns the exit code. */
int cmd_read_configuration(const struct cmd_program *prog, int argc, char **argv);

/* The "configuration" object as the reference CLI prints it: the
 * configuration plus "configFilePath" (a vscode-uri object whose scheme is
 * "vscode-fileHost" for a discovered file and "file" for one given with
 * --config, as in the reference). New object; caller frees with
 * cJSON_Delete(). */
cJSON *cmd_read_configuration_object(const struct config *cfg, int discovered);

#endif
