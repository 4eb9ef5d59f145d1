/* cmd-man.c - a program's manual page (roff, man(7) macros) written from its
 * command table (see cmd.h): the same text `PROG COMMAND --help` prints, so
 * the page cannot drift from the program. */
#include "cmd.h"

#include <stdio.h>
#include <string.h>

/* One line of preformatted text, escaped for roff: a backslash is written
 * \e, and a line starting with . or ' is guarded by \&. */
static void
man_put_line(FILE *f, const char *line, size_t len)
{
	size_t i;

	if (len > 0 && (line[0] == '.' || line[0] == '\''))
		fputs("\\&", f);
	for (i = 0; i < len; i++) {
		if (line[i] == '\\')
			fputs("\\e", f);
		else if (line[i] == '-')
			fputs("\\-", f);
		else
			fputc(line[i], f);
	}
	fputc('\n', f);
}

/* text (lines separated by \n), preformatted: as --help lays it out. */
static void
man_put_block(FILE *f, const char *text)
{
	const char *nl;

	fputs(".nf\n", f);
	while (*text != '\0') {
		nl = strchr(text, '\n');
		if (nl == NULL)
			nl = text + strlen(text);
		man_put_line(f, text, (size_t)(nl - text));
		text = *nl == '\n' ? nl + 1 : nl;
	}
	fputs(".fi\n", f);
}

/* Running text on one line (a summary). */
static void
man_put_text(FILE *f, const char *text)
{
	man_put_line(f, text, strlen(text));
}

void
cmd_print_man(const struct cmd_program *prog, FILE *f)
{
	static const char *const pages[] = { "rdev", "rdev-broker", "rdev-agent" };
	const struct cmd_entry *e;
	char upper[64];
	size_t i;

	for (i = 0; prog->name[i] != '\0' && i + 1 < sizeof upper; i++)
		upper[i] = (char)(prog->name[i] >= 'a' && prog->name[i] <= 'z'
			? prog->name[i] - 'a' + 'A'
			: prog->name[i]);
	upper[i] = '\0';
	fprintf(f,
	    ".\\\" Written by `%s help --man` from the program's own --help "
	    "texts; do not edit.\n",
	    prog->name);
	fprintf(f, ".TH %s 1 \"\" \"%s %s\" \"User Commands\"\n", upper, prog->name,
	    RDEV_VERSION);
	fputs(".SH NAME\n", f);
	fprintf(f, "%s \\- ", prog->name);
	man_put_text(f, prog->summary);
	fputs(".SH SYNOPSIS\n", f);
	fprintf(f,
	    ".B %s\n[\\fB\\-v\\fR|\\fB\\-q\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR...]\n",
	    prog->name);
	fputs(".SH DESCRIPTION\n", f);
	man_put_text(f, prog->summary);
	fprintf(f,
	    "Each command below is also described by\n.B %s help COMMAND\nor\n"
	    ".BR \"%s COMMAND \\-\\-help\" .\n",
	    prog->name, prog->name);
	fputs(".SH COMMANDS\n", f);
	for (i = 0; (e = prog->entries[i]) != NULL; i++) {
		fputs(".SS \"", f);
		fprintf(f, "%s %s", prog->name, e->name);
		fputs("\"\n", f);
		fprintf(f, "\\fB%s %s\\fR ", prog->name, e->name);
		man_put_line(f, e->usage, strlen(e->usage));
		fputs(".PP\n", f);
		man_put_text(f, e->summary);
		if (e->exec == NULL)
			fputs("This command is not available in this build yet.\n", f);
		if (e->help != NULL && *e->help != '\0') {
			fputs(".PP\n", f);
			man_put_block(f, e->help);
		}
	}
	fputs(".SH GLOBAL OPTIONS\n", f);
	fputs(".TP\n.BR \\-v \", \" \\-\\-verbose\nmore output (repeat for debug)\n", f);
	fputs(".TP\n.BR \\-q \", \" \\-\\-quiet\nerrors only\n", f);
	fputs(".TP\n.BR \\-h \", \" \\-\\-help\nthe list of commands\n", f);
	fputs(".TP\n.B \\-\\-version\nprint the version\n", f);
	fputs(".SH EXIT STATUS\n", f);
	fputs(".TP\n.B 0\nsuccess\n.TP\n.B 1\nthe operation failed\n.TP\n.B 2\n"
	      "usage error (unknown command or bad option)\n.TP\n.B 69\n"
	      "the command is not available in this build yet\n",
	    f);
	for (i = 0; prog->exit_status != NULL && prog->exit_status[i] != NULL &&
	     prog->exit_status[i + 1] != NULL;
	     i += 2) {
		fputs(".TP\n.B ", f);
		man_put_line(f, prog->exit_status[i], strlen(prog->exit_status[i]));
		man_put_text(f, prog->exit_status[i + 1]);
	}
	/* (the other programs', not this one's own page) */
	fputs(".SH SEE ALSO\n", f);
	for (i = 0; i < 3; i++)
		if (strcmp(pages[i], prog->name) != 0)
			fprintf(f, ".BR %s (1),\n", pages[i]);
	fputs("the Development Container Specification, https://containers.dev\n", f);
}
