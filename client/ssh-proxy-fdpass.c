/* ssh-proxy-fdpass.c - a ProxyCommand's connection handed to ssh as a
 * socket (ProxyUseFdpass; ssh-proxy.h): ssh then reads and writes our SSH
 * server's socket itself, with no pump threads and no pipe copies between. */
#include "ssh-proxy.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "xmalloc.h"

/* Send fd over the unix socket sock (SCM_RIGHTS, with one byte, as ssh's
 * receiving side expects). 0, or -1 with *cause. */
static int
ssh_proxy_fdpass_send(int sock, int fd, char **cause)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	ssize_t n;

	memset(&control, 0, sizeof control);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof control.buf;
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n != 1) {
		error_set_errno(cause, n < 0 ? errno : EIO,
		    "passing the connection to ssh (ProxyUseFdpass)");
		return -1;
	}
	return 0;
}

int
ssh_proxy_fdpass(int out_fd, int *fd, char **cause)
{
	struct stat st;
	int sv[2], null;
	pid_t pid;

	*fd = -1;
	if (fstat(out_fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 2; /* (pipes: an SSH client without ProxyUseFdpass) */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		error_set_errno(cause, errno, "socketpair");
		return -1;
	}
	/* Passed first, then the fork: if ssh is gone, no child is left
	 * serving a socket nobody holds. */
	if (ssh_proxy_fdpass_send(out_fd, sv[0], cause) != 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[0]);
	if ((pid = fork()) < 0) {
		error_set_errno(cause, errno, "fork");
		close(sv[1]);
		return -1;
	}
	if (pid > 0)
		return 1; /* ssh waits for this process to end; the child serves */
	/* The child: ssh's socket for stdin and stdout is the parent's to
	 * close (ssh reads the passed one); stderr stays ssh's. */
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		close(null);
	}
	*fd = sv[1];
	return 0;
}
