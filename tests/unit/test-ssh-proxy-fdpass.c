/* test-ssh-proxy-fdpass.c - `rdev ssh-proxy --fdpass` telling a client
 * that takes a socket (OpenSSH's ProxyUseFdpass) from one that speaks SSH on
 * the socket it gave (libssh's ProxyCommand), both giving one socket as
 * stdin and stdout (client/ssh-proxy-fdpass.c). The in-band cases only: a
 * pass that is taken forks (e2e/ssh-proxy.sh has those). */
#include "test.h"

#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssh-proxy.h"

static int
same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	    sa.st_ino == sb.st_ino;
}

TEST(pipes_are_in_band_for_the_pump)
{
	int in[2], out[2], fd = 7;
	char *cause = NULL;

	ASSERT_INT_EQ(pipe(in), 0);
	ASSERT_INT_EQ(pipe(out), 0);
	ASSERT_INT_EQ(
	    ssh_proxy_fdpass(in[0], out[1], &fd, &cause), SSH_PROXY_FDPASS_INBAND);
	ASSERT_INT_EQ(fd, -1);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

TEST(a_client_that_spoke_gets_no_socket)
{
	static const char banner[] = "SSH-2.0-libssh_0.10.6\r\n";
	int sv[2], fd = -1;
	char *cause = NULL, c;

	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ASSERT_INT_EQ(write(sv[0], banner, sizeof banner - 1), (int)sizeof banner - 1);
	ASSERT_INT_EQ(
	    ssh_proxy_fdpass(sv[1], sv[1], &fd, &cause), SSH_PROXY_FDPASS_INBAND);
	ASSERT_TRUE(fd > 2 && fd != sv[1]);
	ASSERT_TRUE(same_file(fd, sv[1]));
	/* nothing sent to it, and its version still to be read */
	ASSERT_INT_EQ(recv(sv[0], &c, 1, MSG_DONTWAIT), -1);
	ASSERT_INT_EQ(recv(fd, &c, 1, MSG_DONTWAIT), 1);
	ASSERT_INT_EQ(c, 'S');
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

/* An in-band client that speaks only once it has read what the server
 * sent first (read(2): a passed descriptor is dropped). */
struct late_client {
	int sock;
	char first;
};

static void *
late_client_run(void *arg)
{
	struct late_client *lc = arg;
	static const char banner[] = "SSH-2.0-late\r\n";

	if (read(lc->sock, &lc->first, 1) == 1 &&
	    write(lc->sock, banner, sizeof banner - 1) != (ssize_t)sizeof banner - 1)
		lc->first = 0;
	return NULL;
}

TEST(a_client_that_drops_the_socket_is_served_in_band)
{
	struct late_client lc = { -1, 0 };
	pthread_t t;
	int sv[2], fd = -1;
	char *cause = NULL;

	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	lc.sock = sv[0];
	ASSERT_INT_EQ(pthread_create(&t, NULL, late_client_run, &lc), 0);
	ASSERT_INT_EQ(
	    ssh_proxy_fdpass(sv[1], sv[1], &fd, &cause), SSH_PROXY_FDPASS_INBAND);
	pthread_join(t, NULL);
	/* what it read is an empty line before a version, for SSH */
	ASSERT_INT_EQ(lc.first, '\n');
	ASSERT_TRUE(same_file(fd, sv[1]));
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

TEST(a_client_gone_is_an_error)
{
	int sv[2], fd = 7;
	char *cause = NULL;

	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[0]);
	ASSERT_INT_EQ(
	    ssh_proxy_fdpass(sv[1], sv[1], &fd, &cause), SSH_PROXY_FDPASS_FAILED);
	ASSERT_INT_EQ(fd, -1);
	ASSERT_STR_CONTAINS(cause, "closed");
	free(cause);
	close(sv[1]);
}
