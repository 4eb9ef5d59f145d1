/* cmd.h - subcommand tables and dispatch shared by rdev, rdev-agent and
 * rdev-broker.
 *
 * Each program lists its commands in a table of struct cmd_entry (client/cmd.c
 * and friends). cmd_main() opens /dev/null on a closed descriptor 0, 1 or 2,
 * handles the global options (-v, -q, --help,
 * --version), "help CMD", "CMD --help" and unknown commands, then calls the
 * command's exec function with argv[0] set to the command name.
 *
 * The same table makes the manual page (`PROG help --man`, cmd-man.c) and
 * answers shell completion (`PROG help --complete CWORD WORD...`,
 * cmd-complete.c), so neither has a second copy of the text to drift.
 *
 * Exit codes scripts can trust (docs/CLI.md):
 *   0 success, 1 the operation failed, 2 usage error (unknown command or bad
 *   option), 69 the command is not available in this build yet; `exec`/`shell`
 *   return the remote command's own status.
 */
#ifndef RDEV_CMD_H
#define RDEV_CMD_H

#include <stdio.h>

#define CMD_EXIT_OK 0
#define CMD_EXIT_FAILURE 1
#define CMD_EXIT_USAGE 2
#define CMD_EXIT_UNAVAILABLE 69

struct cmd_entry {
	const char *name;
	const char *usage;   /* arguments after the name: "TARGET [-- COMMAND...]" */
	const char *summary; /* one line for the command list */
	const char *help;    /* the rest of `CMD --help`: options and details */
	/* NULL: not built yet; the command says so and exits CMD_EXIT_UNAVAILABLE. */
	int (*exec)(int argc, char **argv);
};

struct cmd_program {
	const char *name;    /* "rdev" */
	const char *summary; /* one line describing the program */
	/* The commands in the order help lists them; NULL-terminated. Each
	 * command's entry lives in its own file (as tmux's cmd-*.c). */
	const struct cmd_entry *const *entries;
	/* Completion of an operand (not an option) of command, the nth (0:
	 * the first; an option's value counts as one): print the candidates
	 * that start with prefix to out, one per line. NULL: none (the shell
	 * completes file names). */
	void (*complete_operand)(
	    const char *command, int nth, const char *prefix, FILE *out);
	/* Called with the command's name just before it runs (not for help,
	 * completion or a usage error). NULL: nothing. */
	void (*before_exec)(const char *command);
	/* The manual's exit statuses besides 0, 1, 2 and 69: pairs of the
	 * status ("125") and its meaning, NULL-terminated. NULL: none. */
	const char *const *exit_status;
	/* Called with the command's name and exit code after it ran (as
	 * before_exec). NULL: nothing. */
	void (*after_exec)(const char *command, int rc);
};

/* Parse global options, pick the command and run it; returns the exit code. */
int cmd_main(const struct cmd_program *prog, int argc, char **argv);
/* Print `PROG CMD --help` text for entry to stdout. */
void cmd_print_help(const struct cmd_program *prog, const struct cmd_entry *entry);
/* cmd-man.c: the program's manual page, roff (man(7)), to f. */
void cmd_print_man(const struct cmd_program *prog, FILE *f);
/* cmd-complete.c: the completions of words[cword] (words[0] is the
 * program; cword == nwords: a new, empty word), one per line to out. */
void cmd_complete(
    const struct cmd_program *prog, int cword, int nwords, char *const *words, FILE *out);

/* For use inside a command: report a usage error and return CMD_EXIT_USAGE. */
int cmd_usage_error(const struct cmd_program *prog, const struct cmd_entry *entry,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The entry called name, or NULL. */
const struct cmd_entry *cmd_lookup(const struct cmd_program *prog, const char *name);
/* True if argv[1..] contains -h or --help before any "--". */
int cmd_wants_help(int argc, char **argv);

#endif
