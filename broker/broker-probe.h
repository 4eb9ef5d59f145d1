/* broker-probe.h - the "pool-probe" request: many hosts' agents asked for "info"
 * at once by the broker itself, over the sessions it holds (placement and
 * `rdev hosts ls`: client/pool-probe.h).
 *
 *   pool-probe {"hosts":[{"host","user","port","sshConfig",...}, ...],
 *          "timeoutMs":N}
 *   -> {"hosts":[{"info":{...}} or {"error":"...","errorKind":K}, ...]},
 *      in their order, within timeoutMs (at most 60 s) of the request: a
 *      host not answered by then is {"error":"timeout","errorKind":
 *      "timeout"}. errorKind, when the session's connect failed, is the kind
 *      it recorded (rdev_ssh_fail_name: "timeout", "refused",
 *      "unreachable", "dns", "hostkey", "auth", "other", and
 *      "handshake-timeout": TCP connected, no SSH); error is then "timeout"
 *      for a TCP timeout, "no SSH handshake: ..." for a handshake timeout
 *      (by the failure's "proxied" and "banner": host_send_failure),
 *      else the session's message.
 *
 * Each host's request goes to its session as an "info" job (host-session.h)
 * on a socketpair of its own; the broker's loop reads their answers and a
 * timer ends the wait. No prompts: a host that asks for a passphrase or a
 * password is an error. A host that accepts TCP and never speaks SSH costs
 * the deadline, in parallel with the others, never more: its session's own
 * connect is bounded by timeoutMs less half a second (connectTimeout, whole
 * seconds: it ends first, and what it found is the answer), so it does not
 * hold the host's thread longer either.
 *
 * Ownership: a probe owns the client's connection (fd, handed over) and its
 * socketpairs' ends until it answers; it is on the caller's list until then,
 * and broker_probe_free_all frees what is left when the broker stops.
 */
#ifndef RDEV_BROKER_PROBE_H
#define RDEV_BROKER_PROBE_H

#include <sys/queue.h>

#include <cjson/cJSON.h>

struct event_base;
struct broker_probe;
LIST_HEAD(broker_probes, broker_probe);

/* Hand one host's request to its session: host (borrowed) names the host as
 * an "agent" request does, fd is the session's end of a socketpair (taken
 * over on success), on which the answer comes as {"id","ok","result"}; 0,
 * or -1 with *cause (fd is still the caller's). */
typedef int (*broker_probe_submit_fn)(
    void *arg, const cJSON *host, int connect_timeout_s, int fd, char **cause);

/* Start the probe of request req (id: its id) for the client on fd (taken
 * over: answered and closed by the probe). */
void broker_probe_start(struct event_base *base, struct broker_probes *list, int fd,
    int id, const cJSON *req, broker_probe_submit_fn submit, void *arg);
/* Free the probes still on list (the broker stops), closing their fds. */
void broker_probe_free_all(struct broker_probes *list);
/* The "error" of a host whose connect ended "handshake-timeout": "no SSH
 * handshake: " and what was there and what was not, by what the session's
 * failed response said the handshake got to: through a proxy command
 * (proxied: its "proxied") or to the TCP port, and whether the SSH banner
 * came (banner_came: its "banner"; the key exchange did not end). A static
 * string. */
const char *broker_probe_handshake_words(int proxied, int banner_came);

#endif
