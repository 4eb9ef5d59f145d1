/* cmd.c - subcommand tables and dispatch (see cmd.h). */
#include "cmd.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Started with descriptor 0, 1 or 2 closed (`rdev exec ... <&-`), the
 * program's first socket would take that number: exec would read its own
 * connection to Docker or the broker as its input. Each closed one is
 * opened on /dev/null first (open takes the lowest free number), as a
 * closed stdin reads as an empty one. */
static void
cmd_std_fds_open(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

static void
cmd_print_program_help(const struct cmd_program *prog, FILE *f)
{
	int i;

	fprintf(f, "usage: %s [-v|-q] COMMAND [ARGS...]\n\n%s\n\ncommands:\n", prog->name,
	    prog->summary);
	for (i = 0; prog->entries[i] != NULL; i++)
		fprintf(f, "  %-20s %s%s\n", prog->entries[i]->name,
		    prog->entries[i]->summary,
		    prog->entries[i]->exec == NULL ? " (not available yet)" : "");
	fprintf(f,
	    "\nglobal options:\n"
	    "  -v, --verbose        more output (repeat for debug)\n"
	    "  -q, --quiet          errors only\n"
	    "  -h, --help           this help; `%s COMMAND --help` for a command\n"
	    "  --version            print the version\n",
	    prog->name);
}

void
cmd_print_help(const struct cmd_program *prog, const struct cmd_entry *entry)
{
	printf("usage: %s %s%s%s\n\n%s\n", prog->name, entry->name,
	    *entry->usage != '\0' ? " " : "", entry->usage, entry->summary);
	if (entry->help != NULL && *entry->help != '\0')
		printf("\n%s", entry->help);
	if (entry->exec == NULL)
		printf("\nThis command is not available in this build yet.\n");
}

int
cmd_usage_error(
    const struct cmd_program *prog, const struct cmd_entry *entry, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", prog->name, entry->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see `%s %s --help`)\n", prog->name, entry->name);
	return CMD_EXIT_USAGE;
}

int
cmd_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

const struct cmd_entry *
cmd_lookup(const struct cmd_program *prog, const char *name)
{
	int i;

	for (i = 0; prog->entries[i] != NULL; i++)
		if (strcmp(prog->entries[i]->name, name) == 0)
			return prog->entries[i];
	return NULL;
}

int
cmd_main(const struct cmd_program *prog, int argc, char **argv)
{
	const struct cmd_entry *entry;
	int i;

	cmd_std_fds_open();
	log_init(prog->name, LOG_WARN);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
			log_raise_level();
		else if (strncmp(argv[i], "-v", 2) == 0 &&
		    strspn(argv[i] + 1, "v") == strlen(argv[i] + 1)) {
			for (size_t k = 1; argv[i][k] != '\0'; k++)
				log_raise_level();
		} else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
			log_set_level(LOG_ERROR);
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			cmd_print_program_help(prog, stdout);
			return CMD_EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("%s %s\n", prog->name, RDEV_VERSION);
			return CMD_EXIT_OK;
		} else {
			fprintf(stderr, "%s: unknown option %s (see `%s --help`)\n",
			    prog->name, argv[i], prog->name);
			return CMD_EXIT_USAGE;
		}
	}
	if (i == argc) {
		cmd_print_program_help(prog, stderr);
		return CMD_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		/* For the build (man pages) and the shell's completion script. */
		if (i + 1 < argc && strcmp(argv[i + 1], "--man") == 0) {
			cmd_print_man(prog, stdout);
			return CMD_EXIT_OK;
		}
		if (i + 2 < argc && strcmp(argv[i + 1], "--complete") == 0) {
			cmd_complete(
			    prog, atoi(argv[i + 2]), argc - i - 3, argv + i + 3, stdout);
			return CMD_EXIT_OK;
		}
		if (i + 1 == argc) {
			cmd_print_program_help(prog, stdout);
			return CMD_EXIT_OK;
		}
		if ((entry = cmd_lookup(prog, argv[i + 1])) == NULL) {
			fprintf(stderr, "%s: unknown command '%s' (see `%s --help`)\n",
			    prog->name, argv[i + 1], prog->name);
			return CMD_EXIT_USAGE;
		}
		cmd_print_help(prog, entry);
		return CMD_EXIT_OK;
	}
	if ((entry = cmd_lookup(prog, argv[i])) == NULL) {
		fprintf(stderr, "%s: unknown command '%s' (see `%s --help`)\n",
		    prog->name, argv[i], prog->name);
		return CMD_EXIT_USAGE;
	}
	if (cmd_wants_help(argc - i, argv + i)) {
		cmd_print_help(prog, entry);
		return CMD_EXIT_OK;
	}
	if (entry->exec == NULL) {
		fprintf(stderr, "%s: '%s' is not available in this build yet\n",
		    prog->name, entry->name);
		return CMD_EXIT_UNAVAILABLE;
	}
	if (prog->before_exec != NULL)
		prog->before_exec(entry->name);
	i = entry->exec(argc - i, argv + i);
	if (prog->after_exec != NULL)
		prog->after_exec(entry->name, i);
	return i;
}
