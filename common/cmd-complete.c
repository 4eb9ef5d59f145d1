/* cmd-complete.c - shell completion from a program's command table (see
 * cmd.h): command names, and a command's options as its usage line and
 * --help text name them, so a new option completes with no second list to
 * keep. Operands come from the program's complete_operand hook. */
#include "cmd.h"

#include <ctype.h>
#include <string.h>

static const char *const cmd_global_options[] = { "--verbose", "--quiet", "--help",
	"--version", NULL };

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Whether the option of length len at opt was printed already: an earlier
 * occurrence in the texts scanned before it (usage, then help). */
static int
option_seen_before(const char *texts[], int ti, const char *opt, size_t len)
{
	const char *p;
	int i;

	for (i = 0; i <= ti; i++) {
		for (p = texts[i]; p != NULL && (p = strstr(p, "--")) != NULL; p += 2) {
			if (p == opt)
				return 0;
			if (strncmp(p, opt, len) == 0 &&
			    !(isalnum((unsigned char)p[len]) || p[len] == '-') &&
			    (p == texts[i] ||
				!(isalnum((unsigned char)p[-1]) || p[-1] == '-')))
				return 1;
		}
	}
	return 0;
}

/* Every --long-option the entry's usage and help name (each once), then
 * --help, filtered by prefix. */
static void
complete_options(const struct cmd_entry *e, const char *prefix, FILE *out)
{
	const char *texts[2] = { e->usage, e->help };
	const char *p, *q;
	size_t len;
	int ti;

	for (ti = 0; ti < 2; ti++) {
		for (p = texts[ti]; p != NULL && (p = strstr(p, "--")) != NULL; p = q) {
			q = p + 2;
			if (p != texts[ti] &&
			    (isalnum((unsigned char)p[-1]) || p[-1] == '-'))
				continue;
			if (!islower((unsigned char)*q))
				continue;
			while (isalnum((unsigned char)*q) || *q == '-')
				q++;
			len = (size_t)(q - p);
			if (len == 6 && strncmp(p, "--help", 6) == 0)
				continue;
			if (strlen(prefix) > len ||
			    strncmp(p, prefix, strlen(prefix)) != 0)
				continue;
			if (!option_seen_before(texts, ti, p, len))
				fprintf(out, "%.*s\n", (int)len, p);
		}
	}
	if (starts_with("--help", prefix))
		fputs("--help\n", out);
}

static void
complete_commands(
    const struct cmd_program *prog, const char *prefix, int with_help, FILE *out)
{
	int i;

	for (i = 0; prog->entries[i] != NULL; i++)
		if (starts_with(prog->entries[i]->name, prefix))
			fprintf(out, "%s\n", prog->entries[i]->name);
	if (with_help && starts_with("help", prefix))
		fputs("help\n", out);
}

void
cmd_complete(
    const struct cmd_program *prog, int cword, int nwords, char *const *words, FILE *out)
{
	const struct cmd_entry *e;
	const char *cur = cword < nwords ? words[cword] : "";
	int i, cmd_at;

	/* The command is the first word after the global options. */
	for (cmd_at = 1; cmd_at < nwords && cmd_at < cword && words[cmd_at][0] == '-';
	     cmd_at++)
		;
	if (cword <= cmd_at) {
		if (cur[0] == '-') {
			for (i = 0; cmd_global_options[i] != NULL; i++)
				if (starts_with(cmd_global_options[i], cur))
					fprintf(out, "%s\n", cmd_global_options[i]);
		} else
			complete_commands(prog, cur, 1, out);
		return;
	}
	if (strcmp(words[cmd_at], "help") == 0) {
		if (cword == cmd_at + 1)
			complete_commands(prog, cur, 0, out);
		return;
	}
	if ((e = cmd_lookup(prog, words[cmd_at])) == NULL)
		return;
	/* After "--" everything is the remote command's. */
	for (i = cmd_at + 1; i < cword; i++)
		if (strcmp(words[i], "--") == 0)
			return;
	if (cur[0] == '-')
		complete_options(e, cur, out);
	else if (prog->complete_operand != NULL)
		prog->complete_operand(e->name, cur, out);
}
