/* cmd-complete.c - shell completion from a program's command table (see
 * cmd.h): command names, and a command's options as its usage line and
 * the option lines of its --help name them, so a new option completes with
 * no second list to keep. Operands come from the program's complete_operand hook. */
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

/* The options offered so far (each once), at most OPTIONS_MAX. */
#define OPTIONS_MAX 128
struct complete_seen {
	const char *opt[OPTIONS_MAX];
	size_t len[OPTIONS_MAX];
	int n;
};

/* Print each --long-option in [p, end) that starts with prefix and was not
 * printed before. */
static void
complete_options_in(const char *p, const char *end, const char *prefix,
    struct complete_seen *seen, FILE *out)
{
	const char *q, *start = p;
	size_t len;
	int k;

	for (; p < end && (p = strstr(p, "--")) != NULL && p < end; p = q) {
		q = p + 2;
		if (p != start && (isalnum((unsigned char)p[-1]) || p[-1] == '-'))
			continue;
		if (!islower((unsigned char)*q))
			continue;
		while (isalnum((unsigned char)*q) || *q == '-')
			q++;
		len = (size_t)(q - p);
		if (len == 6 && strncmp(p, "--help", 6) == 0)
			continue;
		if (strlen(prefix) > len || strncmp(p, prefix, strlen(prefix)) != 0)
			continue;
		for (k = 0; k < seen->n; k++)
			if (seen->len[k] == len && strncmp(seen->opt[k], p, len) == 0)
				break;
		if (k < seen->n || seen->n == OPTIONS_MAX)
			continue;
		seen->opt[seen->n] = p;
		seen->len[seen->n++] = len;
		fprintf(out, "%.*s\n", (int)len, p);
	}
}

/* The options a command takes, as its usage line and the option lines of
 * its --help name them (each once), then --help, filtered by prefix. Only
 * those: an option named in the help's prose is often another command's
 * (`rdev forward --auto` in up's) or one the command refuses (the reference
 * CLI's it does not take). An option line is indented by two spaces and
 * starts with '-'; its options are those before the description (two
 * spaces). A usage of alternatives by subcommand (hosts': "add ... | rm ...
 * | ls ...") gives sub's alternative alone when sub is one of them. */
static void
complete_options(
    const struct cmd_entry *e, const char *sub, const char *prefix, FILE *out)
{
	struct complete_seen seen = { .n = 0 };
	const char *p, *end, *line, *u = e->usage != NULL ? e->usage : "";
	size_t n = sub != NULL ? strlen(sub) : 0;

	end = u + strlen(u);
	for (p = u; n > 0 && p != NULL; p = strstr(p, " | ")) {
		if (p != u)
			p += 3;
		if (strncmp(p, sub, n) == 0 && p[n] == ' ') {
			u = p;
			if ((end = strstr(p, " | ")) == NULL)
				end = p + strlen(p);
			break;
		}
	}
	complete_options_in(u, end, prefix, &seen, out);
	for (line = e->help; line != NULL && *line != '\0';
	     line = *end == '\n' ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		if (strncmp(line, "  -", 3) != 0)
			continue;
		/* (the options' column: up to the description) */
		if ((p = strstr(line + 2, "  ")) != NULL && p < end)
			end = p;
		complete_options_in(line, end, prefix, &seen, out);
		end = line + strcspn(line, "\n");
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
	const char *cur = cword < nwords ? words[cword] : "", *sub = NULL;
	int i, cmd_at, nth;

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
	/* (the operands before cur: the first may be a subcommand) */
	for (i = cmd_at + 1, nth = 0; i < cword; i++)
		if (words[i][0] != '-' && nth++ == 0)
			sub = words[i];
	if (cur[0] == '-')
		complete_options(e, sub, cur, out);
	else if (prog->complete_operand != NULL)
		prog->complete_operand(e->name, nth, cur, out);
}
