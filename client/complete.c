/* complete.c - what the shell's completion offers for a command's TARGET
 * (cmd.h, complete_operand): the pools as "@POOL", the host aliases of the
 * user's ssh config as "alias:", and the remote targets of earlier
 * successful `rdev up`s (the recent-targets file in the state dir, newest
 * first); for `hosts`, its subcommands and the aliases. Each candidate is
 * offered once (a host alias is often a recent target too), and the aliases
 * `rdev ssh-config --write` keeps in ~/.ssh/rdev.config are left out: they
 * reach dev containers, not Docker hosts. */
#include "client.h"

#include <ctype.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent-state.h"
#include "atomic-file.h"
#include "buf.h"
#include "pool-file.h"
#include "xmalloc.h"

#define RECENT_TARGETS_NAME "recent-targets"
#define RECENT_TARGETS_MAX 50
#define SSH_CONFIG_MAX_DEPTH 8

static int
has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return n <= len && strncmp(s, prefix, n) == 0;
}

/* Where the candidates go: each word once (compared case-sensitively:
 * host:/src/App and host:/src/app are two targets). */
struct complete_out {
	FILE *f;
	cJSON *seen; /* words written so far (owned) */
};

static void
complete_emit(struct complete_out *out, const char *word)
{
	if (cJSON_GetObjectItemCaseSensitive(out->seen, word) != NULL)
		return;
	cJSON_AddTrueToObject(out->seen, word);
	fprintf(out->f, "%s\n", word);
}

static void ssh_config_hosts(
    const char *path, const char *prefix, int depth, struct complete_out *out);

/* Include's argument: each word, ~/ and relative paths as ssh_config(5)
 * says (relative to ~/.ssh for a user file), globbed. */
static void
ssh_config_include(char *words, const char *prefix, int depth, struct complete_out *out)
{
	const char *home = getenv("HOME");
	char *w, *save = NULL, *pat;
	glob_t g;
	size_t i;

	for (w = strtok_r(words, " \t", &save); w != NULL;
	     w = strtok_r(NULL, " \t", &save)) {
		if (w[0] == '~' && w[1] == '/')
			pat = xasprintf("%s%s", home != NULL ? home : "", w + 1);
		else if (w[0] != '/')
			pat = xasprintf("%s/.ssh/%s", home != NULL ? home : "", w);
		else
			pat = xstrdup(w);
		if (glob(pat, 0, NULL, &g) == 0) {
			for (i = 0; i < g.gl_pathc; i++) {
				const char *base = strrchr(g.gl_pathv[i], '/');

				/* (ssh-config --write's container aliases) */
				if (strcmp(base != NULL ? base + 1 : g.gl_pathv[i],
					"rdev.config") == 0)
					continue;
				ssh_config_hosts(g.gl_pathv[i], prefix, depth + 1, out);
			}
			globfree(&g);
		}
		free(pat);
	}
}

/* The Host lines' plain names (no pattern characters) of one file. */
static void
ssh_config_hosts(
    const char *path, const char *prefix, int depth, struct complete_out *out)
{
	char line[1024], *p, *kw, *save = NULL, *w, *word;
	size_t kwlen;
	FILE *f;

	if (depth > SSH_CONFIG_MAX_DEPTH || (f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n#")] = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			;
		kw = p;
		while (*p != '\0' && !isspace((unsigned char)*p) && *p != '=')
			p++;
		kwlen = (size_t)(p - kw);
		while (isspace((unsigned char)*p) || *p == '=')
			p++;
		if (kwlen == 7 && strncasecmp(kw, "Include", 7) == 0) {
			ssh_config_include(p, prefix, depth, out);
			continue;
		}
		if (kwlen != 4 || strncasecmp(kw, "Host", 4) != 0)
			continue;
		for (w = strtok_r(p, " \t", &save); w != NULL;
		     w = strtok_r(NULL, " \t", &save))
			if (strpbrk(w, "*?!\"") == NULL &&
			    has_prefix(w, strlen(w), prefix)) {
				word = xasprintf("%s:", w);
				complete_emit(out, word);
				free(word);
			}
	}
	fclose(f);
}

static char *
recent_targets_path(void)
{
	char *dir, *path, *cause = NULL;

	if ((dir = agent_state_dir(&cause)) == NULL) {
		free(cause);
		return NULL;
	}
	path = xasprintf("%s/%s", dir, RECENT_TARGETS_NAME);
	free(dir);
	return path;
}

static const char *const hosts_subcommands[] = { "add", "rm", "ls", NULL };

/* "@POOL" for each pool of hosts.json and the team file, once each. */
static void
complete_pools(const char *prefix, struct complete_out *out)
{
	cJSON *entries;
	const cJSON *e;
	char *cause = NULL, *word;

	if ((entries = pool_load(&cause)) == NULL) {
		free(cause);
		return;
	}
	cJSON_ArrayForEach(e, entries) {
		word = xasprintf("@%s", pool_entry_pool(e));
		if (has_prefix(word, strlen(word), prefix))
			complete_emit(out, word);
		free(word);
	}
	cJSON_Delete(entries);
}

void
client_complete_operand(const char *command, int nth, const char *prefix, FILE *f)
{
	const char *env = getenv("RDEV_SSH_CONFIG"), *home = getenv("HOME");
	char *path = NULL, *data = NULL, *line, *save = NULL, *cause = NULL;
	struct complete_out out = { f, cJSON_CreateObject() };
	size_t len;
	int hosts = strcmp(command, "hosts") == 0;

	if (hosts && nth == 0) {
		/* (the subcommand, nothing else; HOST: the aliases below) */
		for (const char *const *sub = hosts_subcommands; *sub != NULL; sub++)
			if (has_prefix(*sub, strlen(*sub), prefix))
				complete_emit(&out, *sub);
		cJSON_Delete(out.seen);
		return;
	}
	/* (hosts' HOST: no pool, no workspace; doctor's: a host, not a pool) */
	if (!hosts && (prefix[0] == '@' || prefix[0] == '\0') &&
	    strcmp(command, "doctor") != 0)
		complete_pools(prefix, &out);
	if (!hosts && (path = recent_targets_path()) != NULL &&
	    file_read_all(path, 1 << 20, &data, &len, &cause) == 0) {
		for (line = strtok_r(data, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			if (has_prefix(line, strlen(line), prefix))
				complete_emit(&out, line);
	}
	free(cause);
	free(data);
	free(path);
	if (env != NULL && *env != '\0')
		ssh_config_hosts(env, prefix, 0, &out);
	else if (home != NULL) {
		path = xasprintf("%s/.ssh/config", home);
		ssh_config_hosts(path, prefix, 0, &out);
		free(path);
	}
	cJSON_Delete(out.seen);
}

int
client_recent_target_add(const char *target, char **cause)
{
	char *path, *data = NULL, *line, *save = NULL, *ignored = NULL;
	size_t len, n = 0;
	struct buf *b;
	int rc;

	if (strchr(target, '\n') != NULL)
		return 0;
	if ((path = recent_targets_path()) == NULL)
		return 0;
	b = buf_new();
	buf_appendf(b, "%s\n", target);
	if (file_read_all(path, 1 << 20, &data, &len, &ignored) == 0) {
		for (line = strtok_r(data, "\n", &save);
		     line != NULL && n + 1 < RECENT_TARGETS_MAX;
		     line = strtok_r(NULL, "\n", &save)) {
			if (strcmp(line, target) == 0)
				continue;
			buf_appendf(b, "%s\n", line);
			n++;
		}
	}
	free(ignored);
	rc = atomic_file_write(path, buf_data(b), buf_len(b), 0600, cause);
	buf_free(b);
	free(data);
	free(path);
	return rc;
}
