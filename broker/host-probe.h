/* host-probe.h - the broker's "probe" request (`rdev doctor`): a fresh SSH
 * connection to a host, apart from any session the broker holds with it,
 * that reports each step (ssh-session.h's report: address, banner, host key,
 * authentication and their times), then how long a command takes through
 * the remote user's shell (~/.bashrc runs for each), which agent versions are
 * installed, whether sshd has an sftp subsystem and whether it allows TCP
 * forwarding (a direct-tcpip open to a closed port on the host: "connect
 * failed" says it is allowed, "administratively prohibited" that it is not).
 * The connection is closed after that; nothing is installed or recorded
 * (unless acceptNewHostKey, as for any request).
 *
 * Each probe runs in a thread of its own (libssh blocks), which owns the
 * client's fd from host_probe_start on and closes it after its answer.
 */
#ifndef RDEV_HOST_PROBE_H
#define RDEV_HOST_PROBE_H

#include <cjson/cJSON.h>

#include "ssh-session.h"

/* How long a probe waits for the connect (TCP, then the SSH banner and key
 * exchange, together) when the request says nothing: a doctor wants its
 * answer soon (the sessions' default is 20 s), and 10 s is still ample for
 * a slow link. It is the probe's own, over the ssh config's ConnectTimeout:
 * the answer's "connectTimeoutS" says it, for the doctor's words. */
#define HOST_PROBE_CONNECT_TIMEOUT_S 10

/* Answer request id on fd (blocking; taken) with the probe of the host o
 * names (copied): {"ok":true,"result":{...}} as docs/PROTOCOL.md's "probe"
 * says, also when the connect failed (its "error" and the step it
 * reached). */
void host_probe_start(int fd, int id, const struct ssh_target_opts *o);

/* The result's JSON for a report and what came after it (pure; for tests
 * too): a new object. */
cJSON *host_probe_report_json(const struct ssh_connect_report *r);

#endif
