/* tty-prompt.h - asking the user on the controlling terminal (/dev/tty),
 * whatever stdin and stdout are: SSH passphrases, passwords and
 * keyboard-interactive answers.
 */
#ifndef RDEV_TTY_PROMPT_H
#define RDEV_TTY_PROMPT_H

#include <stddef.h>

/* Show prompt and read one line, without echo unless echo. 0 with buf
 * NUL-terminated (no newline), or -1: no terminal, or end of input. */
int tty_prompt_read(const char *prompt, char *buf, size_t len, int echo);
/* Is there a terminal to ask on? */
int tty_prompt_available(void);
/* Show text (a keyboard-interactive instruction) on the terminal, if any. */
void tty_prompt_show(const char *text);

#endif
