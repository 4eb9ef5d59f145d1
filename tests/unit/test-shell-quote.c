/* test-shell-quote.c - unit tests for common/shell-quote.c (the SSH command
 * string and the display of array-form lifecycle commands). */
#include "test.h"

#include <stdlib.h>

#include "shell-quote.h"

/* An argv and what shell_quote_argv() makes of it in one or two modes. */
struct quote_case {
	const char *name;
	const char *argv[6]; /* NULL-terminated */
	struct {
		enum shell_quote_mode mode;
		const char *want; /* NULL: no more modes */
	} quoted[2];
};

static const struct quote_case quote_cases[] = {
	{ "always_quotes_every_word_and_escapes_single_quotes",
	    { "/home/u/.rdev/agent/x/rdev-agent", "serve", "it's", "", NULL },
	    { { SHELL_QUOTE_ALWAYS,
		"'/home/u/.rdev/agent/x/rdev-agent' 'serve' 'it'\\''s' ''" } } },
	{ "needed_leaves_safe_words_bare",
	    { "sh", "-c", "sleep 2; echo hi", "a=b,c:d@e%f+g", "$HOME", NULL },
	    { { SHELL_QUOTE_NEEDED,
		"sh -c 'sleep 2; echo hi' a=b,c:d@e%f+g '$HOME'" } } },
	/* A hint's command: a '~' past a word's start is not expanded by a
	 * shell (`rdev up box:~/app` as typed); at its start it is, and needs
	 * quotes. */
	{ "hint_leaves_a_tilde_bare_past_the_start",
	    { "rdev", "up", "box:~/app", "~/x", "./my app", NULL },
	    { { SHELL_QUOTE_HINT, "rdev up box:~/app '~/x' './my app'" },
		{ SHELL_QUOTE_NEEDED, "rdev up 'box:~/app' '~/x' './my app'" } } },
	/* bash (not in POSIX mode) expands a '~' after an assignment-like
	 * word's '=' or a ':' past it: `echo a=~/x` prints a=/home/me/x. */
	{ "hint_quotes_a_tilde_after_an_equals_sign",
	    { "rdev", "up", "a=~/x", "a=b:~/x", "a~b=c", NULL },
	    { { SHELL_QUOTE_HINT, "rdev up 'a=~/x' 'a=b:~/x' a~b=c" } } },
	{ "empty_argv_is_empty_string", { NULL }, { { SHELL_QUOTE_ALWAYS, "" } } },
};

/* Quote one quote_cases row's argv in each of its modes. */
static void
quote_check(const void *arg)
{
	const struct quote_case *c = arg;
	char *s;

	for (size_t i = 0; i < 2 && c->quoted[i].want != NULL; i++) {
		s = shell_quote_argv(c->argv, c->quoted[i].mode);
		ASSERT_STR_EQ(s, c->quoted[i].want);
		free(s);
	}
}
TEST_CASES(quote_check, quote_cases)
