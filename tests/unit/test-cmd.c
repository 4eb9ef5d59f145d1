/* test-cmd.c - unit tests for common/cmd-complete.c and common/cmd-man.c
 * (completion and the manual page from a command table). */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static int
dummy_exec(int argc, char **argv)
{
	return 0;
}

static void
operand(const char *command, int nth, const char *prefix, FILE *out)
{
	fprintf(out, "%s:%d:%s\n", command, nth, prefix);
}

static const struct cmd_entry up = { "up", "TARGET [--rebuild] [--config FILE]",
	"create it",
	"options:\n  --rebuild   again\n  --recreate  anew\n  --config FILE\n"
	"  -f, --follow  x (see `rdev forward --auto`)\n  --help  this\n"
	"  --dotfiles-a URL, --dotfiles-b FILE\n"
	"                  as up's --remote-env (see --config)\n"
	"The reference's --refused is a usage error.\n",
	dummy_exec };
static const struct cmd_entry stop = { "stop", "TARGET", "stop it", NULL, dummy_exec };
static const struct cmd_entry later = { "later", "", "not yet", NULL, NULL };
static const struct cmd_entry hosts = { "hosts",
	"add [--pool NAME] [--label KV]... HOST | rm [--pool NAME] HOST | ls [--json]",
	"manage", "  --accept-new-host-key   trust\n", dummy_exec };
static const struct cmd_entry *const entries[] = { &up, &stop, &later, &hosts, NULL };
static const char *const exit_status[] = { "125", "its own failure", NULL };
static const struct cmd_program prog = { "prog", "A \\test\\ program.", entries, operand,
	NULL, exit_status, NULL };

/* The completions of words (the last is completed), one string. */
static char *
complete(int nwords, char **words)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cmd_complete(&prog, nwords - 1, nwords, words, f);
	fclose(f);
	return out;
}

TEST(commands_then_help_by_prefix)
{
	char *w1[] = { "prog", "" }, *w2[] = { "prog", "-v", "s" },
	     *w3[] = { "prog", "he" };
	char *s;

	ASSERT_STR_EQ(s = complete(2, w1), "up\nstop\nlater\nhosts\nhelp\n");
	free(s);
	ASSERT_STR_EQ(s = complete(3, w2), "stop\n");
	free(s);
	ASSERT_STR_EQ(s = complete(2, w3), "help\n");
	free(s);
}

TEST(options_from_usage_and_help_each_once)
{
	char *w1[] = { "prog", "up", "--re" }, *w2[] = { "prog", "up", "--" },
	     *w3[] = { "prog", "--ver" };
	char *s;

	ASSERT_STR_EQ(s = complete(3, w1), "--rebuild\n--recreate\n");
	free(s);
	/* not --auto, another command's named in the help's prose, nor
	 * --refused (prose too); --help last */
	ASSERT_STR_EQ(s = complete(3, w2),
	    "--rebuild\n--config\n--recreate\n--follow\n"
	    "--dotfiles-a\n--dotfiles-b\n--help\n");
	free(s);
	ASSERT_STR_EQ(s = complete(2, w3), "--verbose\n--version\n");
	free(s);
}

TEST(options_of_the_subcommand_typed)
{
	char *w1[] = { "prog", "hosts", "add", "--" },
	     *w2[] = { "prog", "hosts", "ls", "--" }, *w3[] = { "prog", "hosts", "--" },
	     *w4[] = { "prog", "hosts", "add", "--pool", "p", "" };
	char *s;

	ASSERT_STR_EQ(
	    s = complete(4, w1), "--pool\n--label\n--accept-new-host-key\n--help\n");
	free(s);
	ASSERT_STR_EQ(s = complete(4, w2), "--json\n--accept-new-host-key\n--help\n");
	free(s);
	ASSERT_STR_EQ(s = complete(3, w3),
	    "--pool\n--label\n--json\n--accept-new-host-key\n--help\n");
	free(s);
	/* (the operand's place: an option's value counts) */
	ASSERT_STR_EQ(s = complete(6, w4), "hosts:2:\n");
	free(s);
}

TEST(operands_through_the_hook_and_nothing_after_dashdash)
{
	char *w1[] = { "prog", "stop", "ho" },
	     *w2[] = { "prog", "up", "h:x", "--", "--r" },
	     *w3[] = { "prog", "help", "u" }, *w4[] = { "prog", "nosuch", "" };
	char *s;

	ASSERT_STR_EQ(s = complete(3, w1), "stop:0:ho\n");
	free(s);
	ASSERT_STR_EQ(s = complete(5, w2), "");
	free(s);
	ASSERT_STR_EQ(s = complete(3, w3), "up\n");
	free(s);
	ASSERT_STR_EQ(s = complete(3, w4), "");
	free(s);
}

TEST(man_page_escapes_and_lists_every_command)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cmd_print_man(&prog, f);
	fclose(f);
	ASSERT_TRUE(strstr(out, ".TH PROG 1 ") != NULL);
	ASSERT_TRUE(strstr(out, "A \\etest\\e program.") != NULL);
	ASSERT_TRUE(strstr(out, ".SS \"prog up\"") != NULL);
	ASSERT_TRUE(strstr(out, "\\-\\-rebuild   again") != NULL);
	ASSERT_TRUE(strstr(out, ".SS \"prog later\"") != NULL);
	ASSERT_TRUE(
	    strstr(out, "This command is not available in this build yet.") != NULL);
	/* the program's own exit statuses after the common ones */
	ASSERT_TRUE(strstr(out, ".B 69\n") != NULL);
	ASSERT_TRUE(strstr(out, ".TP\n.B 125\nits own failure\n.SH SEE ALSO\n") != NULL);
	free(out);
}

/* What after_exec was called with (cmd_main_calls_after_exec). */
static const char *after_name;
static int after_rc, after_calls;

static int
failing_exec(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 3;
}

static void
record_after(const char *command, int rc)
{
	after_name = command;
	after_rc = rc;
	after_calls++;
}

TEST(cmd_main_calls_after_exec)
{
	static const struct cmd_entry fails = { "fails", "", "fails", NULL,
		failing_exec };
	static const struct cmd_entry *const list[] = { &fails, NULL };
	static const struct cmd_program p = { "prog", "p", list, NULL, NULL, NULL,
		record_after };
	char *run[] = { "prog", "fails", NULL },
	     *help[] = { "prog", "fails", "--help", NULL };

	ASSERT_INT_EQ(cmd_main(&p, 2, run), 3);
	ASSERT_INT_EQ(after_calls, 1);
	ASSERT_STR_EQ(after_name, "fails");
	ASSERT_INT_EQ(after_rc, 3);
	/* (help is no run of the command) */
	ASSERT_INT_EQ(cmd_main(&p, 3, help), 0);
	ASSERT_INT_EQ(after_calls, 1);
}
