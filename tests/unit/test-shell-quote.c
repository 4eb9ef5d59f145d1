/* test-shell-quote.c - unit tests for common/shell-quote.c (the SSH command
 * string and the display of array-form lifecycle commands). */
#include "test.h"

#include <stdlib.h>

#include "shell-quote.h"

TEST(always_quotes_every_word_and_escapes_single_quotes)
{
	const char *argv[] = { "/home/u/.rdev/agent/x/rdev-agent", "serve", "it's", "",
		NULL };
	char *s = shell_quote_argv(argv, SHELL_QUOTE_ALWAYS);

	ASSERT_STR_EQ(s, "'/home/u/.rdev/agent/x/rdev-agent' 'serve' 'it'\\''s' ''");
	free(s);
}

TEST(needed_leaves_safe_words_bare)
{
	const char *argv[] = { "sh", "-c", "sleep 2; echo hi", "a=b,c:d@e%f+g", "$HOME",
		NULL };
	char *s = shell_quote_argv(argv, SHELL_QUOTE_NEEDED);

	ASSERT_STR_EQ(s, "sh -c 'sleep 2; echo hi' a=b,c:d@e%f+g '$HOME'");
	free(s);
}

/* A hint's command: a '~' past a word's start is not expanded by a shell
 * (`rdev up box:~/app` as typed); at its start it is, and needs quotes. */
TEST(hint_leaves_a_tilde_bare_past_the_start)
{
	const char *argv[] = { "rdev", "up", "box:~/app", "~/x", "./my app", NULL };
	char *s = shell_quote_argv(argv, SHELL_QUOTE_HINT);

	ASSERT_STR_EQ(s, "rdev up box:~/app '~/x' './my app'");
	free(s);
	s = shell_quote_argv(argv, SHELL_QUOTE_NEEDED);
	ASSERT_STR_EQ(s, "rdev up 'box:~/app' '~/x' './my app'");
	free(s);
}

/* bash (not in POSIX mode) expands a '~' after an assignment-like word's
 * '=' or a ':' past it: `echo a=~/x` prints a=/home/me/x. */
TEST(hint_quotes_a_tilde_after_an_equals_sign)
{
	const char *argv[] = { "rdev", "up", "a=~/x", "a=b:~/x", "a~b=c", NULL };
	char *s = shell_quote_argv(argv, SHELL_QUOTE_HINT);

	ASSERT_STR_EQ(s, "rdev up 'a=~/x' 'a=b:~/x' a~b=c");
	free(s);
}

TEST(empty_argv_is_empty_string)
{
	const char *argv[] = { NULL };
	char *s = shell_quote_argv(argv, SHELL_QUOTE_ALWAYS);

	ASSERT_STR_EQ(s, "");
	free(s);
}
