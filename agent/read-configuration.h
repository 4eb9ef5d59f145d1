/* read-configuration.h - the `read-configuration` command's help and the
 * "configuration" object it prints (op-read-configuration.c). */
#ifndef RDEV_READ_CONFIGURATION_H
#define RDEV_READ_CONFIGURATION_H

#include <cjson/cJSON.h>

#include "config.h"

#define CMD_READ_CONFIGURATION_HELP \
	"PATH is the workspace folder (default: the current directory).\n" \
	"\n" \
	"options:\n" \
	"  --workspace-folder PATH         the workspace, instead of PATH\n" \
	"  --config FILE                   use FILE instead of looking for\n" \
	"                                  .devcontainer/devcontainer.json,\n" \
	"                                  .devcontainer.json or\n" \
	"                                  .devcontainer/*/devcontainer.json\n" \
	"  --include-merged-configuration  also print the configuration merged\n" \
	"                                  with the image's devcontainer.metadata\n" \
	"                                  and the Features' metadata\n" \
	"  --include-features-configuration\n" \
	"                                  also print the Features as the\n" \
	"                                  reference's featuresConfiguration\n" \
	"  --override-config FILE          read FILE in place of the workspace's\n" \
	"                                  devcontainer.json (as `up`'s)\n" \
	"  --additional-features JSON      Features besides the configuration's\n" \
	"                                  (as `up`'s): their metadata join the\n" \
	"                                  merged configuration\n" \
	"  --mount-workspace-git-root true|false\n" \
	"                                  false (or --no-mount-workspace-git-root):\n" \
	"                                  mount PATH itself at /workspaces/NAME,\n" \
	"                                  not the git work tree holding it (the\n" \
	"                                  default, true); as `up`'s\n" \
	"  --mount-git-worktree-common-dir true|false\n" \
	"                                  as `up`'s (the workspace then has\n" \
	"                                  \"additionalMountString\", the common\n" \
	"                                  git dir's mount)\n" \
	"  --id-label NAME=VALUE           find the container by these labels\n" \
	"                                  (repeatable), as `up --id-label` made\n" \
	"                                  it; they make ${devcontainerId} too\n" \
	"--oci-auth-hardening, --log-level and --log-format take only the\n" \
	"reference's defaults (false, info, text); any other value is a usage\n" \
	"error that says what to use instead.\n" \
	"\n" \
	"The output matches `devcontainer read-configuration` of the reference\n" \
	"CLI where both print the same thing. As there, ${devcontainerId} and\n" \
	"${containerEnv:...} are substituted once the workspace has a container\n" \
	"(running or stopped), and left as written before.\n"

/* The "configuration" object as the reference CLI prints it: configuration
 * (the substituted configuration) plus "configFilePath" for file (a
 * vscode-uri object whose scheme is "vscode-fileHost" for a discovered file
 * and "file" for one given with --config, as in the reference). New object;
 * caller frees with cJSON_Delete(). */
cJSON *read_configuration_object(
    const cJSON *configuration, const char *file, int discovered);

#endif
