/* shell-quote.h - argv as one command string a shell parses back into the
 * same words: for SSH, which carries a command as one string for the remote
 * user's login shell, and for showing array-form lifecycle commands. Pure.
 */
#ifndef RDEV_SHELL_QUOTE_H
#define RDEV_SHELL_QUOTE_H

enum shell_quote_mode {
	SHELL_QUOTE_NEEDED, /* only words with characters outside shlex.quote()'s safe set
			     */
	SHELL_QUOTE_ALWAYS, /* every word (any login shell: sh, bash, csh, fish) */
	/* as SHELL_QUOTE_NEEDED, but a '~' past a word's first character stays
	 * bare (no shell expands it there): a command to paste from a hint,
	 * `rdev up host:~/app` as typed */
	SHELL_QUOTE_HINT,
};

/* The words joined by spaces, quoted in single quotes (' as '\''). New
 * string (caller frees). */
char *shell_quote_argv(const char *const *argv, enum shell_quote_mode mode);

#endif
