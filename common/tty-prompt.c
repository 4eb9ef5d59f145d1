/* tty-prompt.c - asking on the terminal (tty-prompt.h). */
#include "tty-prompt.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Read a line from the terminal, without echo unless echo; 0 or -1 (no
 * terminal, or EOF). buf is NUL-terminated without the newline. */
int
tty_prompt_read(const char *prompt, char *buf, size_t len, int echo)
{
	struct termios old, new;
	int fd, restore = 0;
	size_t n = 0;
	ssize_t r;
	char c;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return -1;
	if (!echo && tcgetattr(fd, &old) == 0) {
		new = old;
		new.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fd, TCSAFLUSH, &new) == 0;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		/* shown or not, we still read the answer */
	}
	while ((r = read(fd, &c, 1)) == 1 && c != '\n' && c != '\r') {
		if (n + 1 < len)
			buf[n++] = c;
	}
	buf[n] = '\0';
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &old);
		if (write(fd, "\n", 1) < 0) {
			/* cosmetic */
		}
	}
	close(fd);
	return r == 1 ? 0 : -1;
}

/* Is there a terminal to prompt on? */
int
tty_prompt_available(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd == -1)
		return 0;
	close(fd);
	return 1;
}

void
tty_prompt_show(const char *text)
{
	int fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);

	if (fd == -1)
		return;
	dprintf(fd, "%s\n", text);
	close(fd);
}
