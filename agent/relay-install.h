/* relay-install.h - put rdev-relay (relay/rdev-relay.c) into a dev container
 * and keep one running there, for the `relay` operation of `serve`.
 *
 * The relay binary is the one next to this program (dirname of
 * /proc/self/exe)/rdev-relay, as laid out by the agent bundle and a build
 * directory. It is copied in with the Engine API's archive upload (no shell
 * or cat needed in the image, so FROM scratch works) to /.rdev-relay, started
 * with a detached exec as 0:0 with a fresh random token, and its port read
 * back from /.rdev-relay.port. The state directory keeps, per container,
 * relay/<container id>.json = {"port":N,"token":HEX,"hash":BLAKE2B-HEX of the
 * binary}, so a later call only checks the running relay (one 'L' round trip
 * with the token) and restarts it when that fails (the container restarted)
 * or when the agent's binary changed. Calls for one container are serialized
 * with the state directory's lock "relay-<id>". The same binary, run as
 * `/.rdev-relay --winsize ROWS COLS COMMAND...`, starts TTY execs with their
 * size set (relay_install_binary()).
 *
 * Wire protocol of the relay: docs/PROTOCOL.md, "The container relay".
 */
#ifndef RDEV_RELAY_INSTALL_H
#define RDEV_RELAY_INSTALL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define RELAY_INSTALL_PATH "/.rdev-relay"
#define RELAY_INSTALL_PORT_FILE "/.rdev-relay.port"
#define RELAY_INSTALL_TOKEN_HEX 64

/* The relay endpoint for the workspace (folder, config_file as for `up`):
 * without service, ensure rdev-relay runs in the dev container and return
 * {"containerId","address","port","token"}; with service (a Compose service
 * of the workspace's project) return {"containerId","address":its IP on the
 * project's network,"port":null,"token":null}. up_cmd is the command to suggest
 * in "run `UP_CMD` first" (agent-ops.h). known (may be NULL: none) is the
 * dev container's id and address the caller has: while the workspace's
 * running container is still that one there, the answer is only
 * {"containerId","unchanged":true} (the relay is not asked); with its
 * check_only, a known target that does not hold is answered
 * {"containerId","changed":true} at once, nothing started (the caller asks
 * in full next: a relay's start in a new container may take seconds, and
 * the caller's connections must not go to the old target meanwhile).
 * not_relay (0:
 * none) is a port the caller found something else than the relay at (its
 * answer was not one): a record of a relay there is not reused, not even
 * after a probe that some other program answered. With resolve_only the
 * container is only found: {"containerId","running":true} (nothing started
 * in it). 0 and *result (cJSON_Delete), or with *cause: RELAY_INSTALL_ABSENT
 * (the folder does not exist, or no container carries the workspace's id
 * labels: nothing will answer until an `up`), RELAY_INSTALL_STOPPED (the
 * container is there but not running: an `up` or a start brings it back),
 * RELAY_INSTALL_NOT_OWNER (the container, or the service's, is another
 * user's: owner_check()'s refusal) or -1 (anything else, a transient failure
 * maybe: Docker slow or restarting). */
#define RELAY_INSTALL_ABSENT (-2)
#define RELAY_INSTALL_STOPPED (-3)
#define RELAY_INSTALL_NOT_OWNER (-4)
struct docker;

struct relay_known {
	const char *container_id, *address;
	int check_only;
};
/* Is the running container (inspected, id cid) the one known names, at the
 * same address (a restart may give it another), with the relay recorded in
 * the state directory for its current start (a stop and start ends the
 * relay)? */
int relay_install_unchanged(struct docker *d, const cJSON *container, const char *cid,
    const struct relay_known *known);
int relay_install_ensure(const char *up_cmd, const char *folder, const char *config_file,
    const cJSON *id_labels, const char *service, const struct relay_known *known,
    int not_relay, int resolve_only, cJSON **result, char **cause);

/* Where the relay of a running dev container answers. */
struct relay_endpoint {
	char *address;
	int port;
	char token[RELAY_INSTALL_TOKEN_HEX + 1];
};
/* Make sure rdev-relay runs in the dev container (container: its inspect)
 * and say where: 0 and *ep (relay_endpoint_clear), or -1 and *cause (no IP
 * address, no relay binary, a read-only filesystem, ...). With trust_state,
 * a relay the state directory records for this container and binary is
 * returned without asking it (one file read; the caller copes with a relay
 * that is gone, then calls again without). A relay recorded at port
 * not_relay (0: none) is replaced without asking it (relay_install_ensure). */
int relay_install_endpoint(struct docker *d, const cJSON *container, int trust_state,
    int not_relay, struct relay_endpoint *ep, char **cause);
void relay_endpoint_clear(struct relay_endpoint *ep);

/* Make sure this agent's rdev-relay is at /.rdev-relay in the (running)
 * container cid, for `rdev-relay --winsize` (a TTY exec's size from the
 * start): copied in once per container and binary, remembered in the state
 * directory as relay/<container id>.bin (the binary's hash), so that later
 * calls cost a file read and no request. 0, or -1 and *cause (no binary
 * next to the agent, a read-only container filesystem, ...). */
int relay_install_binary(struct docker *d, const char *cid, char **cause);

/* Connect to the relay at address:port and send the header for command
 * ('L', 'C' without its port, 'X') with token (64 hex), by deadline
 * (clock_now_ms()). 0 and *fd (non-blocking, close-on-exec), or -1 and
 * *cause. */
int relay_install_connect(const char *address, int port, const char *token, char command,
    int64_t deadline, int *fd, char **cause);

/* Ask the relay at address:port for its listing ('L') with token (64 hex),
 * waiting at most timeout_ms for connect and answer. 0 and, if listing is not
 * NULL, the text in *listing (caller frees); -1 and *cause, also when the
 * answer is not a listing (relay_listing_ok: another program has that
 * port). */
int relay_install_probe(const char *address, int port, const char *token, int timeout_ms,
    char **listing, char **cause);

/* A ustar archive holding the regular files names[i] with contents data[i]
 * (lens[i] bytes) and mode modes[i], owned by 0:0. Pure; the caller frees
 * *tar; *tar_len gets its size. */
void relay_install_tar(size_t n, const char *const *names, const void *const *data,
    const size_t *lens, const unsigned *modes, unsigned char **tar, size_t *tar_len);

/* The contents of the first regular file in a tar archive: 0 with a new
 * buffer in *data (NUL-terminated; caller frees) and its size in *len, -1
 * with *cause when the archive is malformed or holds no file. Pure. */
int relay_install_untar_first(
    const unsigned char *tar, size_t tar_len, char **data, size_t *len, char **cause);

#endif
