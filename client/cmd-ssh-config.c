/* cmd-ssh-config.c - `rdev ssh-config TARGET`: the OpenSSH Host block whose
 * ProxyCommand is `rdev ssh-proxy TARGET`, with the proxy's key pinned
 * (HostKeyAlias and a known_hosts file of rdev's), printed, or with --write
 * kept in ~/.ssh/rdev.config (and, with --yes, included from ~/.ssh/config). */
#include "client.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "buf.h"
#include "config-discover.h"
#include "error.h"
#include "quote.h"
#include "shell-quote.h"
#include "source.h"
#include "ssh-config-text.h"
#include "ssh-ciphers.h"
#include "ssh-proxy.h"
#include "xmalloc.h"

#define CMD_SSH_CONFIG_FILE "rdev.config"
#define CMD_SSH_CONFIG_MAX (1u << 20)
#define CMD_SSH_CONFIG_LABELS 16 /* --id-label's most */

/* The Host block's ProxyCommand (%-escaped). target (and source, NULL when
 * none: HOST: SOURCE, @POOL SOURCE): as the proxy must be given them (a
 * local folder absolute: the proxy runs in whatever folder ssh does);
 * labels: the n --id-label values to pass on. New string, or NULL with
 * *cause. */
static char *
cmd_ssh_config_proxy(const char *target, const char *source, const char *config_file,
    const char *const *labels, size_t n_labels, char **cause)
{
	char exe[PATH_MAX], *cmd, *proxy;
	const char *argv[8 + 2 * CMD_SSH_CONFIG_LABELS] = { exe, "ssh-proxy", target,
		source };
	int next = source != NULL ? 4 : 3;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) < 0) {
		error_set_errno(cause, errno, "/proc/self/exe");
		return NULL;
	}
	exe[n] = '\0';
	if (config_file != NULL) {
		argv[next++] = "--config";
		argv[next++] = config_file;
	}
	for (size_t i = 0; i < n_labels; i++) {
		argv[next++] = "--id-label";
		argv[next++] = labels[i];
	}
	argv[next++] = "--fdpass";
	/* ssh_config is read line by line: a line break would end the
	 * ProxyCommand there and leave the rest a bad option, which makes ssh
	 * refuse the whole file (every host, once --write includes it). */
	for (int i = 2; i < next; i++)
		if (strpbrk(argv[i], "\n\r") != NULL) {
			/* (quoted: the line break itself would end the
			 * message's line) */
			char *q = quote_string(argv[i], 0);

			error_set(cause,
			    "%s holds a line break, which an ssh_config line "
			    "cannot",
			    q);
			free(q);
			return NULL;
		}
	cmd = shell_quote_argv(argv, SHELL_QUOTE_NEEDED);
	proxy = ssh_config_text_escape(cmd);
	free(cmd);
	return proxy;
}

/* The Host block of alias running proxy (cmd_ssh_config_proxy's). New
 * string, or NULL with *cause. */
static char *
cmd_ssh_config_block(const char *alias, const char *proxy, char **cause)
{
	char *known, *kh, *block;

	if ((known = ssh_proxy_key_known_hosts(cause)) == NULL)
		return NULL;
	kh = ssh_config_text_escape(known);
	block = xasprintf("Host %s\n"
			  "    ProxyCommand %s\n"
			  "    ProxyUseFdpass yes\n"
			  "    HostKeyAlias %s\n"
			  "    UserKnownHostsFile \"%s\"\n"
			  "    StrictHostKeyChecking yes\n"
			  "    CheckHostIP no\n"
			  "    Ciphers %s\n",
	    alias, proxy, SSH_PROXY_HOST_KEY_ALIAS, kh, RDEV_SSH_CIPHERS);
	free(kh);
	free(known);
	return block;
}

/* A file's text ("" when it does not exist): new string, or NULL with
 * *cause. */
static char *
cmd_ssh_config_read(const char *path, char **cause)
{
	char *data;
	size_t len;

	if (access(path, F_OK) != 0)
		return xstrdup("");
	if (file_read_all(path, CMD_SSH_CONFIG_MAX, &data, &len, cause) != 0)
		return NULL;
	return data;
}

/* ~/.ssh: new string, or NULL with *cause. */
static char *
cmd_ssh_config_dir(char **cause)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if ((home == NULL || *home == '\0') && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	if (home == NULL) {
		error_set(cause, "no home directory ($HOME)");
		return NULL;
	}
	return xasprintf("%s/.ssh", home);
}

/* --write: block into ~/.ssh/rdev.config (replacing alias's), and with yes
 * an Include of it at the top of ~/.ssh/config. 0, or -1 with *cause. */
static int
cmd_ssh_config_write(const char *alias, const char *block, int yes, char **cause)
{
	char *dir, *path, *old, *text;
	int rc = -1;

	if ((dir = cmd_ssh_config_dir(cause)) == NULL)
		return -1;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		error_set_errno(cause, errno, "%s", dir);
		free(dir);
		return -1;
	}
	path = xasprintf("%s/%s", dir, CMD_SSH_CONFIG_FILE);
	if ((old = cmd_ssh_config_read(path, cause)) == NULL)
		goto out;
	text = ssh_config_text_replace(old, alias, block);
	free(old);
	rc = atomic_file_write(path, text, strlen(text), 0600, cause);
	free(text);
	if (rc != 0)
		goto out;
	fprintf(stderr, "rdev: wrote Host %s to %s\n", alias, path);
	free(path);
	path = xasprintf("%s/config", dir);
	rc = -1;
	if ((old = cmd_ssh_config_read(path, cause)) == NULL)
		goto out;
	if (ssh_config_text_includes(old, CMD_SSH_CONFIG_FILE))
		rc = 0;
	else if (!yes) {
		fprintf(stderr,
		    "rdev: %s does not include %s: add `Include %s` at its top, or run "
		    "again with --yes to let rdev add it\n",
		    path, CMD_SSH_CONFIG_FILE, CMD_SSH_CONFIG_FILE);
		rc = 0;
	} else {
		/* At the top: an Include after a Host line would belong to
		 * that Host. */
		text = xasprintf("Include %s\n\n%s", CMD_SSH_CONFIG_FILE, old);
		rc = atomic_file_write(path, text, strlen(text), 0600, cause);
		free(text);
		if (rc == 0)
			fprintf(stderr, "rdev: added `Include %s` to %s\n",
			    CMD_SSH_CONFIG_FILE, path);
	}
	free(old);
out:
	free(path);
	free(dir);
	return rc;
}

/* Keep aliases apart (docs/SSH-PROXY.md, "Aliases"): when ~/.ssh/rdev.config
 * has a block of *alias that runs another workspace's proxy, a default
 * alias (dflt) gets ssh_config_text_hash(the proxy's words) after it,
 * said on stderr; a --host-alias (or a default still taken) to be written
 * is refused without force, and with it the replacement is said. 0 (*alias may be
 * replaced), or -1 with *cause. */
static int
cmd_ssh_config_pick(
    char **alias, int dflt, const char *proxy, int write, int force, char **cause)
{
	char *dir, *path = NULL, *text = NULL, *other = NULL, *h, *next, *id;
	int rc = -1;

	if ((dir = cmd_ssh_config_dir(cause)) == NULL)
		return -1;
	path = xasprintf("%s/%s", dir, CMD_SSH_CONFIG_FILE);
	if ((text = cmd_ssh_config_read(path, cause)) == NULL)
		goto out;
	other = ssh_config_text_proxy(text, *alias);
	if (other != NULL && !ssh_config_text_same_proxy(other, proxy) && dflt) {
		id = ssh_config_text_identity(proxy);
		h = ssh_config_text_hash(id);
		free(id);
		next = xasprintf("%s-%s", *alias, h);
		free(h);
		fprintf(stderr,
		    "rdev: ssh-config: Host %s in %s reaches another workspace (%s): "
		    "this one is Host %s\n",
		    *alias, path, other, next);
		free(*alias);
		*alias = next;
		free(other);
		other = ssh_config_text_proxy(text, *alias);
	}
	if (other != NULL && !ssh_config_text_same_proxy(other, proxy) && write) {
		if (!force) {
			error_set(cause,
			    "Host %s in %s reaches another workspace (ProxyCommand %s): "
			    "give another --host-alias, or --force to replace it",
			    *alias, path, other);
			goto out;
		}
		fprintf(stderr,
		    "rdev: ssh-config: Host %s in %s reached another workspace "
		    "(ProxyCommand %s): replaced (--force)\n",
		    *alias, path, other);
	}
	rc = 0;
out:
	free(other);
	free(text);
	free(path);
	free(dir);
	return rc;
}

static int
cmd_ssh_config_exec(int argc, char **argv)
{
	const char *alias_arg = NULL, *config_file = NULL, *target = NULL, *v;
	const char *source_arg = NULL, *source = NULL;
	const char *labels[CMD_SSH_CONFIG_LABELS];
	size_t n_labels = 0;
	struct target t = { 0 };
	struct source src = { 0 };
	char *cause = NULL, *folder = NULL, *alias = NULL, *block = NULL;
	char *config_abs = NULL, *proxy = NULL, *id = NULL;
	int write = 0, yes = 0, force = 0, rc = CMD_EXIT_FAILURE, i;

	for (i = 1; i < argc; i++) {
		if (agent_cmd_option(argc, argv, &i, "--host-alias", &v) > 0)
			alias_arg = v;
		else if (agent_cmd_option(argc, argv, &i, "--config", &v) > 0) {
			if (*v == '\0')
				return cmd_usage_error(&client_program,
				    &cmd_ssh_config_entry,
				    AGENT_CMD_EMPTY("--config", "file"));
			config_file = v;
		} else if (agent_cmd_option(argc, argv, &i, "--id-label", &v) > 0) {
			if (!agent_cmd_id_label_ok(v) ||
			    n_labels == CMD_SSH_CONFIG_LABELS)
				return cmd_usage_error(&client_program,
				    &cmd_ssh_config_entry,
				    "--id-label must be NAME=VALUE (at most %d)",
				    CMD_SSH_CONFIG_LABELS);
			labels[n_labels++] = v;
		} else if (strcmp(argv[i], "--write") == 0)
			write = 1;
		else if (strcmp(argv[i], "--yes") == 0)
			yes = 1;
		else if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cmd_usage_error(&client_program, &cmd_ssh_config_entry,
			    "unknown option %s", argv[i]);
		else if (argv[i][0] == '-' || source_arg != NULL)
			return cmd_usage_error(&client_program, &cmd_ssh_config_entry,
			    "unexpected argument %s", argv[i]);
		else if (target != NULL)
			source_arg = argv[i];
		else
			target = argv[i];
	}
	if (target == NULL)
		return cmd_usage_error(
		    &client_program, &cmd_ssh_config_entry, "a TARGET is needed");
	if (*target == '\0')
		return cmd_usage_error(
		    &client_program, &cmd_ssh_config_entry, AGENT_CMD_EMPTY_FOLDER);
	if (alias_arg != NULL &&
	    (*alias_arg == '\0' || strpbrk(alias_arg, " \t\n\r*?!,\"") != NULL))
		return cmd_usage_error(&client_program, &cmd_ssh_config_entry,
		    "--host-alias %s: not a plain host name", alias_arg);
	if (target_is_remote(target)) {
		if (target_parse(target, &t, &cause) != 0) {
			fprintf(stderr, "rdev: ssh-config: %s\n", cause);
			free(cause);
			return CMD_EXIT_USAGE;
		}
	}
	if ((t.kind == TARGET_HOST || t.kind == TARGET_POOL) != (source_arg != NULL)) {
		target_clear(&t);
		return cmd_usage_error(&client_program, &cmd_ssh_config_entry,
		    source_arg != NULL
			? "unexpected argument %s (a SOURCE follows HOST: "
			  "or @POOL only)"
			: "%s needs a SOURCE (a local folder or a git URL)",
		    source_arg != NULL ? source_arg : target);
	}
	if (source_arg != NULL) {
		/* (the proxy's folder is the one up made of the same source) */
		if (source_parse(source_arg, NULL, &src, &cause) != 0)
			goto out;
		source = src.kind == SOURCE_LOCAL ? src.path : src.url;
		folder = xstrdup(source);
	} else if (target_is_remote(target))
		folder = xstrdup(t.path != NULL ? t.path : target);
	else if ((folder = config_discover_resolve(NULL, target, &cause)) == NULL)
		goto out;
	if (config_file != NULL && config_file[0] != '/' && !target_is_remote(target)) {
		if ((config_abs = realpath(config_file, NULL)) == NULL) {
			error_set_errno(&cause, errno, "--config %s", config_file);
			goto out;
		}
		config_file = config_abs;
	}
	proxy = cmd_ssh_config_proxy(target_is_remote(target) ? target : folder, source,
	    config_file, labels, n_labels, &cause);
	if (proxy == NULL)
		goto out;
	/* (what names the workspace: the proxy's words from ssh-proxy on,
	 * without --fdpass) */
	id = ssh_config_text_identity(proxy);
	if (alias_arg != NULL)
		alias = xstrdup(alias_arg);
	else if (source != NULL) {
		/* rdev-NAME of the host folder's NAME-<12 hex> (a URL's: without
		 * ".git") */
		char *base = xstrndup(src.name, strlen(src.name) - 13);

		alias = ssh_config_text_alias(base, id);
		free(base);
	} else
		alias = ssh_config_text_alias(folder, id);
	if (cmd_ssh_config_pick(&alias, alias_arg == NULL, proxy, write, force, &cause) !=
	    0)
		goto out;
	if ((block = cmd_ssh_config_block(alias, proxy, &cause)) == NULL)
		goto out;
	if (write && cmd_ssh_config_write(alias, block, yes, &cause) != 0)
		goto out;
	fputs(block, stdout);
	rc = CMD_EXIT_OK;
out:
	if (cause != NULL)
		fprintf(stderr, "rdev: ssh-config: %s\n", cause);
	free(cause);
	free(folder);
	free(alias);
	free(block);
	free(proxy);
	free(id);
	free(config_abs);
	target_clear(&t);
	source_clear(&src);
	return rc;
}

const struct cmd_entry cmd_ssh_config_entry = { "ssh-config",
	"TARGET [SOURCE] [--host-alias NAME] [--config FILE] [--id-label NAME=VALUE]... "
	"[--write [--yes]] [--force]",
	"print an ssh_config Host block that reaches the dev container",
	"Prints an OpenSSH Host block (alias rdev-<folder name>, or\n"
	"--host-alias NAME; a hash after the default when the name had to be\n"
	"changed or another workspace's block in ~/.ssh/rdev.config has it)\n"
	"whose ProxyCommand is `rdev ssh-proxy TARGET`, so\n"
	"that `ssh NAME`, scp-less tools and editors reach the dev container.\n"
	"The proxy's host key is pinned (HostKeyAlias " SSH_PROXY_HOST_KEY_ALIAS ",\n"
	"and a known_hosts file rdev writes): no prompt, and a changed key is\n"
	"refused.\n\n"
	"options:\n"
	"  --host-alias NAME\n"
	"                  the Host name (default rdev-<folder name>)\n"
	"  --config FILE   the devcontainer.json the proxy uses (as exec's)\n"
	"  --id-label NAME=VALUE\n"
	"                  the proxy finds the container by these labels (as\n"
	"                  exec's; repeatable)\n"
	"  --write         also keep the block in ~/.ssh/rdev.config (replacing\n"
	"                  an earlier one of the same name)\n"
	"  --yes           with --write: add `Include rdev.config` at the top of\n"
	"                  ~/.ssh/config when it lacks it (without: say so)\n"
	"  --force         replace a block of that name in ~/.ssh/rdev.config\n"
	"                  that reaches another workspace (without: refused)\n"
	"\n" CLIENT_TARGET_FORMS_HELP,
	cmd_ssh_config_exec };
