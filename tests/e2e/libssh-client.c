/* libssh-client.c - an SSH client built on libssh, as the IDEs and tools
 * that embed it are (e2e/ssh-proxy.sh): HOST is looked up in CONFIG the way
 * libssh reads ~/.ssh/config (its ProxyCommand run on one end of a
 * socketpair as stdin and stdout, ProxyUseFdpass ignored), the server's key
 * checked against KNOWN_HOSTS under KEY_ALIAS (libssh 0.10 has no
 * HostKeyAlias), no credentials but "none"; COMMAND's stdout is copied to
 * ours and its exit status is ours.
 *
 * usage: libssh-client CONFIG HOST KNOWN_HOSTS KEY_ALIAS COMMAND
 */
#include <stdio.h>
#include <unistd.h>

#include <libssh/libssh.h>

static int
libssh_client_fail(ssh_session s, const char *what)
{
	fprintf(stderr, "libssh-client: %s: %s\n", what, ssh_get_error(s));
	return 255;
}

int
main(int argc, char **argv)
{
	ssh_session s;
	ssh_channel ch;
	char buf[16384];
	int n, status;

	if (argc != 6) {
		fprintf(stderr,
		    "usage: libssh-client CONFIG HOST KNOWN_HOSTS KEY_ALIAS COMMAND\n");
		return 2;
	}
	if ((s = ssh_new()) == NULL)
		return 255;
	if (ssh_options_set(s, SSH_OPTIONS_HOST, argv[2]) != SSH_OK ||
	    ssh_options_parse_config(s, argv[1]) != SSH_OK)
		return libssh_client_fail(s, "config");
	/* (after the config: the key is known by the alias, as ssh's
	 * HostKeyAlias; the ProxyCommand stays the block's) */
	if (ssh_options_set(s, SSH_OPTIONS_HOST, argv[4]) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, argv[3]) != SSH_OK)
		return libssh_client_fail(s, "options");
	if (ssh_connect(s) != SSH_OK)
		return libssh_client_fail(s, "connect");
	if (ssh_session_is_known_server(s) != SSH_KNOWN_HOSTS_OK) {
		fprintf(stderr, "libssh-client: the server's key is not the known one\n");
		return 255;
	}
	if (ssh_userauth_none(s, NULL) != SSH_AUTH_SUCCESS)
		return libssh_client_fail(s, "auth none");
	if ((ch = ssh_channel_new(s)) == NULL || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, argv[5]) != SSH_OK)
		return libssh_client_fail(s, "exec");
	while ((n = ssh_channel_read(ch, buf, sizeof buf, 0)) > 0)
		if (write(1, buf, (size_t)n) != n)
			return 255;
	if (n < 0)
		return libssh_client_fail(s, "read");
	status = ssh_channel_get_exit_status(ch);
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	ssh_disconnect(s);
	ssh_free(s);
	return status < 0 ? 255 : status;
}
