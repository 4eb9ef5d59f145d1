/* lifecycle-dotfiles.c - the dotfiles step (lifecycle.h): up's
 * --dotfiles-* options as the step's spec, and its one command, which
 * clones the repository with the container's git and installs it as the
 * reference CLI's installDotfiles (src/spec-common/dotfiles.ts) does, but
 * with the values as arguments of a fixed script (never pasted into it) and
 * every failure an error (lifecycle-internal.h). */
#include "lifecycle-internal.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* $1 the repository, $2 the target path (a leading ~ is $HOME, as the
 * reference's unquoted path gets from its shell), $3 the install command
 * (empty: the first of the reference's list, else link the dotfiles). Its
 * cwd is the container's working dir, where the reference's shell server
 * runs. Unlike the reference, a missing git is an error (the reference
 * echoes "git not found" and succeeds) and an existing target is installed
 * without git. */
static const char lifecycle_dotfiles_script[] =
    "repo=$1 target=$2 cmd=$3 run=\n"
    "case $target in\n"
    "\"~\") target=$HOME ;;\n"
    "\"~/\"*) target=$HOME/${target#\"~/\"} ;;\n"
    "esac\n"
    "if [ ! -e \"$target\" ]; then\n"
    "\tif ! command -v git >/dev/null 2>&1; then\n"
    "\t\techo \"git is not installed in the container: cannot clone $repo\" >&2\n"
    "\t\texit 127\n"
    "\tfi\n"
    "\tgit clone --depth 1 \"$repo\" \"$target\" || exit\n"
    "fi\n"
    "echo \"Setting current directory to $target\"\n"
    "cd \"$target\" || exit\n"
    "if [ -n \"$cmd\" ]; then\n"
    "\tif [ -f \"./$cmd\" ]; then run=./$cmd\n"
    "\telif [ -f \"$cmd\" ]; then run=$cmd\n"
    "\telse echo \"Could not locate '$cmd' in $target\" >&2; exit 126\n"
    "\tfi\n"
    "else\n"
    "\tfor f in install.sh install bootstrap.sh bootstrap script/bootstrap \\\n"
    "\t    setup.sh setup script/setup; do\n"
    "\t\tif [ -e \"$f\" ]; then run=./$f; break; fi\n"
    "\tdone\n"
    "fi\n"
    "if [ -z \"$run\" ]; then\n"
    /* The reference's choice, `grep -v -E '/(.|..|.git)$'` on `ls -d
     * DIR/.*`: its dots match any character, so a name of one character
     * after its dot (".a") is left out too. Unlike its `ln -sf $dotfiles ~`,
     * a name with a blank is one name. */
    "\tlinked=\n"
    "\tfor f in \"$PWD\"/.*; do\n"
    "\t\tcase ${f##*/} in . | .? | .git) continue ;; esac\n"
    "\t\t[ -e \"$f\" ] || continue\n"
    "\t\techo \"Linking $f\"\n"
    "\t\tln -sf \"$f\" ~ || exit\n"
    "\t\tlinked=1\n"
    "\tdone\n"
    "\t[ -n \"$linked\" ] || echo 'No dotfiles found.'\n"
    "\texit 0\n"
    "fi\n"
    "if [ ! -x \"$run\" ]; then\n"
    "\techo \"Setting '$run' as executable\"\n"
    "\tchmod +x \"$run\" || exit\n"
    "fi\n"
    "echo \"Executing command '$run'...\"\n"
    "exec \"$run\"\n";

cJSON *
lifecycle_dotfiles_spec(
    const char *repository, const char *install_command, const char *target_path)
{
	cJSON *spec;
	char *url;

	if (repository == NULL || *repository == '\0')
		return NULL;
	spec = cJSON_CreateObject();
	/* The reference's shorthand: no ':' and not a path ("./", "../",
	 * "/") is a GitHub owner/repository. */
	if (strchr(repository, ':') == NULL && strncmp(repository, "/", 1) != 0 &&
	    strncmp(repository, "./", 2) != 0 && strncmp(repository, "../", 3) != 0) {
		url = xasprintf("https://github.com/%s.git", repository);
		cJSON_AddStringToObject(spec, "repository", url);
		free(url);
	} else
		cJSON_AddStringToObject(spec, "repository", repository);
	cJSON_AddStringToObject(spec, "targetPath",
	    target_path != NULL && *target_path != '\0' ? target_path : "~/dotfiles");
	if (install_command != NULL && *install_command != '\0')
		cJSON_AddStringToObject(spec, "installCommand", install_command);
	return spec;
}

/* spec's string field name, or "". */
static const char *
lifecycle_dotfiles_field(const cJSON *spec, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

int
lifecycle_dotfiles_run(const struct lifecycle_ctx *ctx, const cJSON *spec, char **cause)
{
	const char *repo = lifecycle_dotfiles_field(spec, "repository");
	const char *target = lifecycle_dotfiles_field(spec, "targetPath");
	const char *install = lifecycle_dotfiles_field(spec, "installCommand");
	struct lifecycle_ctx c = *ctx;
	struct lifecycle_cmd cmd = { 0 };
	struct lifecycle_group g = { &cmd, 1, 0 };
	char *argv[] = { "/bin/sh", "-c", (char *)lifecycle_dotfiles_script,
		"rdev-dotfiles", (char *)repo, (char *)target, (char *)install, NULL };
	int rc;

	cmd.argv = argv;
	cmd.text = *install != '\0'
	    ? xasprintf("git clone --depth 1 %s %s, then %s", repo, target, install)
	    : xasprintf(
		  "git clone --depth 1 %s %s, then its install script", repo, target);
	c.workdir = NULL;
	/* (a failure's cause ends in the step's last words: lifecycle-exec.c) */
	rc = lifecycle_group_run(&c, lifecycle_step_name(LIFECYCLE_DOTFILES), &g, cause);
	free(cmd.text);
	return rc;
}
