/* ssh-resolve.h - a host name's lookup (getaddrinfo) that its caller can
 * wait for with poll() and walk away from.
 *
 * getaddrinfo() cannot be interrupted: a DNS server that does not answer
 * holds it for the resolver's timeout (timeout x attempts x nameservers,
 * 10-30 s). libssh 0.10 resolves inside ssh_connect(), before any wait, so
 * a broker stop (which joins the host threads) waited for it.
 * rdev_ssh_connect therefore resolves first, here: the lookup runs in a
 * detached helper thread that owns a copy of everything it touches; the
 * caller polls ssh_resolve_fd() (readable once the lookup ended) and takes
 * the result, or frees the lookup while it runs. Whichever of the two ends
 * last frees it: a stop does not wait for the lookup, and a lookup that
 * returns after its caller is gone touches nothing of the caller's.
 */
#ifndef RDEV_SSH_RESOLVE_H
#define RDEV_SSH_RESOLVE_H

#include <netdb.h>

struct ssh_resolve;

/* Start looking host up for a TCP connect to port (0 for a local address
 * to bind), with libssh 0.10's hints (any family, SOCK_STREAM, numeric
 * service). host and port are copied. NULL with *cause when no pipe or no
 * thread could be had (e.g. out of file descriptors). */
struct ssh_resolve *ssh_resolve_start(const char *host, unsigned int port, char **cause);
/* Readable (POLLIN) once the lookup ended; valid until ssh_resolve_free. */
int ssh_resolve_fd(const struct ssh_resolve *r);
/* Has the lookup ended? 1 when it has, with getaddrinfo's code in *gai_rc
 * (0, or an EAI_* for gai_strerror) and on success its list in *ai
 * (borrowed: valid until ssh_resolve_free); 0 while it runs. */
int ssh_resolve_result(struct ssh_resolve *r, int *gai_rc, const struct addrinfo **ai);
/* The caller is done: frees r now, or, while the lookup still runs, when it
 * ends (in the helper thread). NULL is a no-op. */
void ssh_resolve_free(struct ssh_resolve *r);

#endif
