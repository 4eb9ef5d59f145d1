/* target.h - what a TARGET on the command line names.
 *
 * Forms (target_parse):
 *   PATH                         a local path (no SSH): "./app", "/src/app",
 *                                "app", or any TEXT that exists here
 *   [user@]host[:port]:PATH      scp-like; host may be an alias from
 *                                ~/.ssh/config; an IPv6 address is written in
 *                                brackets: "[::1]:2222:/src", "me@[fe80::1%eth0]:src"
 *   ssh://[user@]host[:port][/PATH]
 *                                URL form; "/~/src" and "/~" name the remote
 *                                home as in git's ssh URLs; %XX escapes are
 *                                decoded in user and path
 *   [user@]host[:port]:          a host alone (TARGET_HOST): the next
 *                                argument is a SOURCE (source.h), uploaded
 *                                or cloned to a folder the host chooses
 *   @POOL                        a pool of hosts (the broker places the
 *                                work); a SOURCE follows as for HOST:
 *
 * Any other URL ("https://...", "file://...") is refused with a message: a
 * git URL names what to work on, not where; it goes after HOST: or @POOL.
 *
 * In the scp-like form a run of digits followed by ':' right after the host is
 * the port: "box:2222:src" is port 2222, path "src". A path that starts with
 * digits and a colon is written "box:~/12:x" or "box:./12:x".
 *
 * Remote paths are kept as written: "~" or "~/x" means the remote user's home
 * (resolved on the remote side, never by a shell), a relative path is relative
 * to that home (as with scp), "~user/x" is refused. Hostile input is refused:
 * control characters anywhere, a host or user starting with '-' (would be read
 * as an option by ssh/ProxyCommand), characters outside [A-Za-z0-9._-] in a
 * host name or user name, ports outside 1..65535.
 */
#ifndef RDEV_TARGET_H
#define RDEV_TARGET_H

/* True if target names a remote workspace. A local path that exists wins
 * over the host:path reading ("a:b" that is a folder here is local). */
int target_is_remote(const char *target);

enum target_kind {
	TARGET_LOCAL = 0,
	TARGET_SSH,
	TARGET_POOL,
	TARGET_HOST, /* "host:", a SOURCE follows */
};

/* A parsed TARGET; all strings owned by the struct (target_clear frees). */
struct target {
	enum target_kind kind;
	char *user; /* TARGET_SSH, TARGET_HOST: NULL when not given (ssh config / local
		       user) */
	char *host; /* TARGET_SSH: alias, name or address (no brackets) */
	int port;   /* TARGET_SSH: 0 when not given (ssh config / 22) */
	char *path; /* TARGET_LOCAL, TARGET_SSH: never NULL or empty;
		       TARGET_HOST: NULL */
	char *pool; /* TARGET_POOL: the pool name without '@' */
};

/* Parse text into *t (which need not be initialised). Returns 0, or -1 with
 * *cause set ("target 'x': empty host") and *t left cleared. */
int target_parse(const char *text, struct target *t, char **cause);
/* Free what *t owns and zero it; safe on a zeroed or cleared struct. */
void target_clear(struct target *t);

#endif
