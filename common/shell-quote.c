/* shell-quote.c - argv as one shell command string (shell-quote.h). */
#include "shell-quote.h"

#include <string.h>

#include "buf.h"

/* Does word need quotes to reach a POSIX shell as one word, unchanged? The
 * characters that are safe bare are Python's shlex.quote() set (and with
 * tilde, '~' but as the first or after an '=': bash, outside POSIX mode,
 * expands `a=~/x` and `a=b:~/x` as it would in an assignment). */
static int
shell_word_needs_quotes(const char *word, int tilde)
{
	if (*word == '\0')
		return 1;
	for (const char *p = word; *p != '\0'; p++)
		if (!(tilde && *p == '~' && p > word &&
			memchr(word, '=', (size_t)(p - word)) == NULL) &&
		    strchr("@%+=:,./_-", *p) == NULL && !(*p >= 'a' && *p <= 'z') &&
		    !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9'))
			return 1;
	return 0;
}

char *
shell_quote_argv(const char *const *argv, enum shell_quote_mode mode)
{
	struct buf *b = buf_new();
	char *s;

	for (size_t i = 0; argv[i] != NULL; i++) {
		if (i > 0)
			buf_append(b, " ", 1);
		if (mode != SHELL_QUOTE_ALWAYS &&
		    !shell_word_needs_quotes(argv[i], mode == SHELL_QUOTE_HINT)) {
			buf_append(b, argv[i], strlen(argv[i]));
			continue;
		}
		/* '...' keeps everything but ', which ends the quotes, is escaped
		 * and starts them again: it's -> 'it'\''s' */
		buf_append(b, "'", 1);
		for (const char *p = argv[i]; *p != '\0'; p++) {
			if (*p == '\'')
				buf_append(b, "'\\''", 4);
			else
				buf_append(b, p, 1);
		}
		buf_append(b, "'", 1);
	}
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}
