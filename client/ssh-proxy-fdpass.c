/* ssh-proxy-fdpass.c - a ProxyCommand's connection handed to ssh as a
 * socket (ProxyUseFdpass; ssh-proxy.h): ssh then reads and writes our SSH
 * server's socket itself, with no pump threads and no pipe copies between.
 *
 * Which client runs us cannot be seen from the descriptors: OpenSSH's
 * ProxyUseFdpass and libssh's ProxyCommand (which reads ~/.ssh/config but
 * ignores ProxyUseFdpass) both give the command one end of a socketpair as
 * stdin and stdout, the same socket. What tells them apart is what the
 * client does on it: OpenSSH only waits for a descriptor and closes its end
 * once it has it; libssh (an in-band client) sends its version line at once
 * and reads what comes as the server's. So a client that has spoken is
 * served in-band; otherwise the socket is passed with a newline as the one
 * byte that carries it (OpenSSH does not look at that byte; an in-band
 * client reads it as an empty line before the version, which RFC 4253
 * 4.2 allows, and the kernel drops the descriptor), and what the client does
 * next decides. */
#include "ssh-proxy.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <linux/sockios.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "xmalloc.h"

/* How long the client has, after the pass, to take the socket or speak. */
#define SSH_PROXY_FDPASS_WAIT_MS 20000
/* The carrier byte read, both sockets still open this long: an OpenSSH
 * before 7.2 (it closes its end only once this process has ended) took the
 * socket (an in-band client drops it at the read: the passed socket ends). */
#define SSH_PROXY_FDPASS_TAKEN_MS 100

/* Send fd over the unix socket sock (SCM_RIGHTS, with one byte, as ssh's
 * receiving side expects: a newline, for an in-band client's sake). 0, or
 * -1 with *cause. */
static int
ssh_proxy_fdpass_send(int sock, int fd, char **cause)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	char byte = '\n';
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
		    "passing the connection to the SSH client (ProxyUseFdpass)");
		return -1;
	}
	return 0;
}

/* What waits on the socket fd: 1 bytes, 0 nothing yet, -1 its end (or an
 * error). */
static int
ssh_proxy_fdpass_peek(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n > 0)
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	return -1;
}

/* Has the peer read all we wrote on the socket fd (the carrier byte)? */
static int
ssh_proxy_fdpass_all_read(int fd)
{
	int unread;

	return ioctl(fd, SIOCOUTQ, &unread) == 0 && unread == 0;
}

/* Whether in_fd and out_fd are one socket (as both kinds of client give). */
static int
ssh_proxy_fdpass_one_socket(int in_fd, int out_fd)
{
	struct stat in, out;

	if (fstat(in_fd, &in) != 0 || fstat(out_fd, &out) != 0)
		return 0;
	return S_ISSOCK(out.st_mode) && in.st_dev == out.st_dev &&
	    in.st_ino == out.st_ino;
}

/* After the pass of pass's peer over sock: wait for the client to take it
 * (it closes sock, or speaks on the passed socket) or to show it is
 * in-band (it speaks on sock, or reads the byte and drops the socket). */
static enum ssh_proxy_fdpass_outcome
ssh_proxy_fdpass_judge(int sock, int pass, char **cause)
{
	long long deadline = clock_now_ms() + SSH_PROXY_FDPASS_WAIT_MS, left;
	long long read_at = 0;
	struct pollfd pfd[2] = { { sock, POLLIN, 0 }, { pass, POLLIN, 0 } };
	int on_sock, on_pass;

	for (;;) {
		/* (its bytes first: an in-band client that spoke and then
		 * dropped the socket is still in-band) */
		on_sock = ssh_proxy_fdpass_peek(sock);
		on_pass = ssh_proxy_fdpass_peek(pass);
		if (on_sock == 1)
			return SSH_PROXY_FDPASS_INBAND;
		if (on_pass < 0 && on_sock < 0) {
			error_set(cause, "the SSH client closed the connection");
			return SSH_PROXY_FDPASS_FAILED; /* (nobody to serve) */
		}
		if (on_pass < 0)
			return SSH_PROXY_FDPASS_INBAND;
		if (on_sock < 0 || on_pass == 1)
			return SSH_PROXY_FDPASS_PARENT; /* (to be forked) */
		if (read_at == 0 && ssh_proxy_fdpass_all_read(sock))
			read_at = clock_now_ms();
		if (read_at != 0 && clock_now_ms() - read_at >= SSH_PROXY_FDPASS_TAKEN_MS)
			return SSH_PROXY_FDPASS_PARENT; /* (an OpenSSH before 7.2) */
		if ((left = deadline - clock_now_ms()) <= 0)
			break;
		/* (no event says the byte was read: looked at again soon) */
		if (left > SSH_PROXY_FDPASS_TAKEN_MS / 4)
			left = SSH_PROXY_FDPASS_TAKEN_MS / 4;
		if (poll(pfd, 2, (int)left) < 0 && errno != EINTR) {
			error_set_errno(cause, errno, "poll");
			return SSH_PROXY_FDPASS_FAILED;
		}
	}
	error_set(cause,
	    "the SSH client neither took the connection (ProxyUseFdpass) "
	    "nor spoke SSH on stdin within %d s",
	    SSH_PROXY_FDPASS_WAIT_MS / 1000);
	return SSH_PROXY_FDPASS_FAILED;
}

/* In-band on the socket in_fd: a copy of it in *fd for libssh. */
static enum ssh_proxy_fdpass_outcome
ssh_proxy_fdpass_inband(int in_fd, int *fd, char **cause)
{
	if ((*fd = fcntl(in_fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		error_set_errno(cause, errno, "dup");
		return SSH_PROXY_FDPASS_FAILED;
	}
	return SSH_PROXY_FDPASS_INBAND;
}

enum ssh_proxy_fdpass_outcome
ssh_proxy_fdpass(int in_fd, int out_fd, int *fd, char **cause)
{
	enum ssh_proxy_fdpass_outcome o;
	int sv[2], null;
	pid_t pid;

	*fd = -1;
	if (!ssh_proxy_fdpass_one_socket(in_fd, out_fd))
		return SSH_PROXY_FDPASS_INBAND; /* (pipes: the caller pumps) */
	switch (ssh_proxy_fdpass_peek(in_fd)) {
	case 1: return ssh_proxy_fdpass_inband(in_fd, fd, cause);
	case -1:
		error_set(cause, "the SSH client closed the connection");
		return SSH_PROXY_FDPASS_FAILED;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		error_set_errno(cause, errno, "socketpair");
		return SSH_PROXY_FDPASS_FAILED;
	}
	/* Passed and judged first, then the fork: if ssh is gone, no child
	 * is left serving a socket nobody holds. */
	if (ssh_proxy_fdpass_send(out_fd, sv[0], cause) != 0) {
		close(sv[0]);
		close(sv[1]);
		return SSH_PROXY_FDPASS_FAILED;
	}
	/* (ours closed: once the client drops the one in flight, sv[1] sees
	 * the end) */
	close(sv[0]);
	if ((o = ssh_proxy_fdpass_judge(out_fd, sv[1], cause)) !=
	    SSH_PROXY_FDPASS_PARENT) {
		close(sv[1]);
		if (o == SSH_PROXY_FDPASS_INBAND)
			return ssh_proxy_fdpass_inband(in_fd, fd, cause);
		return o;
	}
	if ((pid = fork()) < 0) {
		error_set_errno(cause, errno, "fork");
		close(sv[1]);
		return SSH_PROXY_FDPASS_FAILED;
	}
	if (pid > 0)
		return SSH_PROXY_FDPASS_PARENT; /* ssh waits for this process to end */
	/* The child: ssh's socket for stdin and stdout is the parent's to
	 * close (ssh reads the passed one); stderr stays ssh's. */
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		close(null);
	}
	*fd = sv[1];
	return SSH_PROXY_FDPASS_CHILD;
}
