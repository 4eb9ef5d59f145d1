/* forward.h - a port forward as both kinds of broker host keep it: an SSH
 * host's (host-forward.c) and this machine's Docker engine's
 * (local-forward.c). The plain data (spec, listeners, where its connections
 * go, counters) and what both do with it alike: listen (forward-listen.c),
 * show and save it, read the agent's "relay" answer, write the relay's
 * header, make the forwards of a "forward" request and re-create saved ones
 * (forward.c); what the end of a check of its target means, and how it is
 * told (forward-check.c). What moves the bytes is each host's own.
 *
 * A container port is reached straight at the container's address when the
 * server listens there (0.0.0.0, ::, that address), else through the relay
 * inside the container (a server bound to 127.0.0.1 there works); a Compose
 * service port directly at the service container's address on its network.
 * Listeners: 127.0.0.1 and, when the machine has IPv6, ::1, on one port.
 *
 * Ownership: a struct forward is embedded in its host's object, filled by
 * forward_open (or forward_init: no listeners) and emptied by forward_clear,
 * which closes its listeners and frees its strings. Functions returning
 * cJSON give a new value the caller deletes; the strings of
 * forward_check_warning are the caller's to free.
 */
#ifndef RDEV_FORWARD_H
#define RDEV_FORWARD_H

#include <sys/queue.h>

#include <pthread.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "forward-spec.h"
#include "relay-wire.h"

#define FORWARD_RELAY_MAGIC "RDEVRLY1"
#define FORWARD_RELAY_TOKEN_LEN 32
/* magic, token, command, and the port for 'C' (docs/PROTOCOL.md) */
#define FORWARD_RELAY_HEADER_MAX (8 + FORWARD_RELAY_TOKEN_LEN + 3)
/* How long a request that adds forwards waits for the agent's look at its
 * workspace (forward_resolve_request) before it makes them unchecked: a slow
 * or hung agent must not hold `rdev forward` for the 60 s of a call.
 * forward_precheck_ms() reads its test setting. */
#define FORWARD_PRECHECK_MS 8000
/* A refused direct connection: the relay for this long, then direct again. */
#define FORWARD_DIRECT_RETRY_MS 5000
/* How long a connection to the relay waits for its status byte: the
 * relay's own connect timeout (RELAY_CONNECT_TIMEOUT_MS, relay-wire.h,
 * after which it answers 2) and 10 s of margin for the way there. Silence
 * longer than that is most likely another program on the relay's port
 * (forward_relay_silent). */
#define FORWARD_RELAY_STATUS_MS (RELAY_CONNECT_TIMEOUT_MS + 10000)
/* The most a forwarded connection holds per direction. */
#define FORWARD_CONN_BUFFER (256u << 10)
/* A target older than this is checked before a connection uses it
 * (forward_target_fresh); forward_target_check_ms() reads its test setting. */
#define FORWARD_TARGET_CHECK_MS 1000
/* A connection that finds its target due for a check waits for the agent's
 * answer at most forward_check_bound (FORWARD_CHECK_WAIT_FACTOR times the
 * agent's last answer to that forward, within FORWARD_CHECK_WAIT_MS and
 * FORWARD_CHECK_WAIT_MAX_MS), then goes to the target it has (the check goes
 * on: its answer is for the connections after it). A check that finds the
 * target stale says so at once ("changed", before the relay's start in the
 * new container): the target is dropped, and the connections wait for the
 * full answer with no such bound (forward_take_target). */
#define FORWARD_CHECK_WAIT_MS 250
#define FORWARD_CHECK_WAIT_MAX_MS 2000
#define FORWARD_CHECK_WAIT_FACTOR 4

/* What met a forward's last_error. Both connection kinds are
 * "lastErrorFrom": "connection" (forward_json). */
enum forward_error_from {
	FORWARD_ERROR_CONNECTION, /* a connection's look-up of the target */
	FORWARD_ERROR_CHECK,	  /* a "forward" request's check (up, forward) */
	/* a connection failed at the container's end
	 * (forward_connection_failed): a confirmed target keeps it, only a
	 * connection that gets through clears it (forward_connection_ok) */
	FORWARD_ERROR_CONNECTION_FAILED,
};

struct forward {
	char *workspace, *config;
	char *config_key; /* config in normal form (forward_config_key), for matching */
	cJSON *id_labels; /* the workspace's --id-label's (["NAME=VALUE"]), or NULL */
	char *hint;	  /* the `up` command the user would type, or NULL */
	/* The workspace as the user named it when the host's folder is not
	 * (`HOST: ./app`'s upload: "HOST: /home/me/app"), for listings;
	 * NULL: the workspace itself. Read by forward_json (under lock). */
	char *shown;
	char *service; /* NULL: the dev container, through its relay */
	int port;      /* container/service port */
	int local_port;
	int require_local; /* asked for with requireLocal (saved, not used) */
	char *label;
	char *auto_action; /* auto-forwarded: its onAutoForward, else NULL */
	/* Why the agent could give no target (the container stopped, gone)
	 * to the last connection or request's check (last_error_from), shown
	 * by forward_json as "lastError" until an answer gives one or the
	 * forward goes to another container; NULL: none. */
	char *last_error;
	enum forward_error_from last_error_from;
	/* the last connection failure warned of in the log (only this
	 * thread: no lock), until a connection gets through: the same one
	 * again is logged at info level; owned, or NULL */
	char *warned;
	int fd4, fd6; /* listeners; -1: none */
	/* Where to connect (from the agent's relay op), for the container
	 * container_id: checked when stale (forward_target_fresh), asked for
	 * again (have_target 0) when a connection to it fails. */
	int have_target;
	/* bumped by each new target taken (forward_take_target; not by a
	 * check that confirms it, nor by an answer naming the same target
	 * again, as a Compose service's does): a connection opened to the target of one
	 * number is to another one's once it changed */
	unsigned target_seq;
	long long checked_ms; /* when it was asked for or confirmed (clock_now_ms) */
	long long asked_ms;   /* when the relay request in flight went; 0: none */
	long long answer_ms;  /* how long the agent took to answer the last one */
	/* A "forward" request came while a relay request was in flight (sent
	 * before it, maybe before a recreate), or the container changed: the
	 * answer in flight is not the request's, and one more follows it. */
	int check_again;
	/* Which send of a "forward" request's check of the target the one in
	 * flight (or the one after it: check_again) is: 0 none (a check in
	 * flight is a connection's), 1 its first, FORWARD_REQUEST_SENDS its
	 * last. It is sent once more only when it failed on the way
	 * (FORWARD_FAILED_ON_THE_WAY: not as the session ends or with its
	 * connection gone, nor by the agent's own answer) in less than
	 * FORWARD_RETRY_FAST_MS; any other end of it tells the request
	 * (FORWARD_ANSWER_UNCHECKED's warning counts the sends) and sets it
	 * back to 0. */
	int request_send;
	char *address;
	char *container_id; /* the relay answer's (the service's container for one) */
	int target_port;    /* the relay's port, or the service port */
	unsigned char token[FORWARD_RELAY_TOKEN_LEN];
	/* The relay port where something else answered (forward_not_relay),
	 * named in the next relay request ("notRelay"); 0: none. */
	int not_relay;
	/* Tried direct again at this time after a refusal (clock_now_ms). */
	long long direct_retry_ms;
	unsigned long connections, direct, relayed;
	unsigned long
	    via_exec; /* through a Docker exec (the local host: Docker Desktop) */
	int active;
	int gone; /* stopped: dropped by its host */
};

/* forward-listen.c */
/* Bind listeners on 127.0.0.1 and ::1 (if available) at port, or at the
 * first free port from port up (unless exact). 0 with fds (fd6 may be -1)
 * and *bound, or -1 with *cause ("127.0.0.1:3000 is in use"). */
int forward_listen(int port, int exact, int *fd4, int *fd6, int *bound, char **cause);

/* forward.c */
/* fw's workspace is found by these id labels (the request's "idLabels",
 * copied; NULL or not an array: the default ones). */
void forward_set_id_labels(struct forward *fw, const cJSON *id_labels);
/* The request's (or saved entry's) "config", "idLabels" and "hint" into
 * fw. When they name another container than fw's (config or idLabels
 * changed), its target is dropped (asked for in full next), a relay
 * request in flight is followed by another (forward_check_take says
 * FORWARD_ANSWER_AGAIN) and its last_error, the old container's, is
 * cleared (under lock when there is one: status's forward_json reads it;
 * NULL when the caller holds it or there is no other thread). Only fw's
 * host thread reads the other strings (the relay requests, matching,
 * saving; forward_json shows none of them): no lock. */
void forward_take_request_fields(
    struct forward *fw, const cJSON *from, pthread_mutex_t *lock);
/* The same fields from another forward of the workspace (an auto-forward
 * from its watch's relay), alike. */
void forward_take_fields_of(
    struct forward *fw, const struct forward *from, pthread_mutex_t *lock);
/* The agent's "relay" request for fw: {"op":"relay","workspace","config",
 * "idLabels","service"}, and when fw has a target of the dev container,
 * its "containerId", "address" and "checkOnly": then the agent answers
 * only {"containerId","unchanged":true} while they are still the
 * workspace's, else {"containerId","changed":true} (a check, without the
 * relay's; an older agent answers that in full). New object. */
cJSON *forward_relay_request(const struct forward *fw);
/* Is status the first byte a relay answers a 'C' with (0 connected, 1
 * refused, 2 another error)? */
int forward_relay_status_ok(unsigned char status);
/* What a relay's status 1 or 2 says, as the error of a connection to the
 * forward's port (static text; 2 names the relay's connect timeout). */
const char *forward_relay_status_error(unsigned char status);
/* What answered at fw's relay port is not its relay (another first byte,
 * or a close before it: the relay died, maybe another program took its
 * port): the target is dropped, and the next relay request says so
 * ("notRelay"), for the agent starts a new relay rather than trust a probe
 * of that port. address (NULL: not known) and port are where the
 * connection went: one made to an older target changes nothing. */
void forward_not_relay(struct forward *fw, const char *address, int port);
/* FORWARD_RELAY_STATUS_MS, or RDEV_FORWARD_RELAY_STATUS_MS from the
 * environment when a positive number of ms (tests: a silent program found
 * sooner). */
int forward_relay_status_ms(void);
/* FORWARD_PRECHECK_MS, or RDEV_FORWARD_PRECHECK_MS from the environment when
 * a positive number of ms (tests: a hung agent's look given up sooner). */
int forward_precheck_ms(void);
/* FORWARD_TARGET_CHECK_MS, or RDEV_FORWARD_TARGET_CHECK_MS from the
 * environment when a positive number of ms (tests: a target due for its
 * check after a shorter idle). */
int forward_target_check_ms(void);
/* A connection to the relay at address (NULL: any) and port got no status
 * byte in time: say so and drop the target when it is that one, without
 * notRelay (the agent's probe decides: a slow relay is kept, a silent
 * program is replaced). */
void forward_relay_silent(struct forward *fw, const char *address, int port);
/* Fill fw for ws (config may be NULL) with no listeners and no target. */
void forward_init(struct forward *fw, const char *ws, const char *config);
/* Fill fw as the forward s of ws and listen: at s->local_port, or from
 * s->port up (exact: that port only). 0, or -1 with *cause naming the port
 * (fw then holds nothing). */
int forward_open(struct forward *fw, const char *ws, const char *config,
    const struct forward_spec *s, int exact, char **cause);
/* Set fw's last_error to cause (copied; NULL: clear it), met by from,
 * under lock when there is one (forward_set_auto_action's reason). */
void forward_set_last_error(struct forward *fw, const char *cause,
    enum forward_error_from from, pthread_mutex_t *lock);
/* A target check (or a full relay answer) ended with cause (NULL: the
 * target confirmed): cause becomes fw's last_error as
 * forward_set_last_error(), but a confirmed target keeps an error a
 * connection met (forward_connection_failed): only forward_connection_ok
 * clears that. */
void forward_check_answered(struct forward *fw, const char *cause,
    enum forward_error_from from, pthread_mutex_t *lock);
/* A connection to fw's port failed at the container's end (why: nothing
 * listens on the port, as the relay's status 1 says, or the target cannot
 * be reached): why becomes fw's last_error (FORWARD_ERROR_CONNECTION_FAILED, under
 * lock when there is one: shown by --list as "its last connection
 * failed"), and is logged, a warning naming label (the host) and the
 * forward; the same failure again only at info level (a client that tries
 * again and again does not fill the log). fw without a listener (a
 * `connect`'s: its client is answered with why) is logged at info level
 * alone. */
void forward_connection_failed(
    struct forward *fw, const char *label, const char *why, pthread_mutex_t *lock);
/* A connection to fw's port got through: a last_error that
 * forward_connection_failed set is cleared (under lock when there is
 * one). */
void forward_connection_ok(struct forward *fw, pthread_mutex_t *lock);
/* Close fw's listeners, free its strings, wipe its token. */
void forward_clear(struct forward *fw);
/* Which container of a workspace a request names: its "workspace", its
 * "config" in normal form and its "idLabels" (what forward_of matches).
 * Filled by forward_key_of_request, emptied by forward_key_clear: it owns
 * its strings and labels. */
struct forward_key {
	char *workspace;  /* NULL when the request names none */
	char *config_key; /* forward_config_key of its "config" (NULL: default) */
	cJSON *id_labels; /* its "idLabels" (an array), or NULL: the default ones */
};
void forward_key_of_request(struct forward_key *k, const cJSON *req);
/* The key of fw's container (copied). */
void forward_key_of(struct forward_key *k, const struct forward *fw);
void forward_key_clear(struct forward_key *k);
/* Is fw the container's that k names (a workspace, the config file, the id
 * labels as a set)? The config paths are compared in the normal form both
 * were stored in. */
int forward_of(const struct forward *fw, const struct forward_key *k);
/* The config file path of workspace ws (NULL: the default) in the normal
 * form that says whether two name the same file. A relative one (to the
 * agent's folder: an SSH host's home, where a relative workspace and "~"
 * are too; the client makes a local target's absolute) stays relative;
 * "." and ".." components and repeated or trailing slashes are resolved
 * lexically (the broker cannot see the host's files: symlinks are not
 * followed; the agent labels containers with such lexical paths too). The
 * workspace's .devcontainer/devcontainer.json is the default (NULL): what
 * discovery takes whenever it is there. New string, or NULL. ws may be
 * NULL (a request without one): no default then. */
#define FORWARD_DEFAULT_CONFIG ".devcontainer/devcontainer.json"
char *forward_config_key(const char *ws, const char *config);
/* Do two id label lists ("NAME=VALUE" arrays, or NULL: the default ones)
 * hold the same labels, in any order? */
int forward_id_labels_same(const cJSON *a, const cJSON *b);
/* Is fw (not gone) the forward of ws to [service:]port? */
int forward_same(const struct forward *fw, const char *ws, const char *service, int port);
/* How well fw serves a request for ws's service:port at local (0: not
 * given): 2 at that local port (not given: at port's own number), 1 (not
 * given) another forward of that target, 0 none. The best one is reused. */
int forward_reuse_rank(
    const struct forward *fw, const char *ws, const char *service, int port, int local);
/* Does an "unforward" of ws (NULL: any) at local (0: any) stop fw? */
int forward_stopped_by(const struct forward *fw, const char *ws, int local);
/* fw as status and forward answers show it. */
cJSON *forward_json(const struct forward *fw);
/* fw as it is saved (broker-state.h). */
cJSON *forward_saved_json(const struct forward *fw);

/* The agent's answer to a "relay" request: "address" (a new string in
 * *address), "port" (1-65535) and "token" (64 hex digits, into token) of the
 * container's relay; for a Compose service only "address" (*port 0). 0, or
 * -1 (nothing set) when the answer lacks one or has it wrong. */
int forward_relay_parse(const cJSON *res, int service, char **address, int *port,
    unsigned char token[FORWARD_RELAY_TOKEN_LEN]);
/* Take the relay answer res as fw's target (and its "containerId", when
 * there), or as the confirmation of fw's target ("unchanged"). 0,
 * FORWARD_TARGET_DROPPED ("unchanged" for a target dropped while the check
 * was in flight, or "changed": the check found the target stale, and it is
 * dropped: ask again in full, have_target being 0), or -1 (fw
 * unchanged). */
#define FORWARD_TARGET_DROPPED 1
int forward_take_target(struct forward *fw, const cJSON *res);
/* May fw's next connection go to its target without asking the agent
 * first (forward_relay_request)? */
int forward_target_fresh(const struct forward *fw);
/* When may a new connection of fw go to its target, at now (clock_now_ms)?
 * 0: at once (fresh, or its check has been in flight forward_check_bound
 * already); N > 0: once the check is answered, at most N ms on (the
 * caller asks when no request is in flight); -1: no target: once the agent
 * answers. */
long long forward_target_wait(const struct forward *fw, long long now);
/* How long a connection waits for a check of fw's target at most (ms). */
long long forward_check_bound(const struct forward *fw);
/* fw's relay request went at now (forward_relay_request), or its answer
 * (answered) or error came at now. */
void forward_asked(struct forward *fw, long long now);
void forward_answered(struct forward *fw, long long now, int answered);
/* The relay's header for command cmd ('C' with port, 'L', 'X') into out;
 * its length. */
size_t forward_relay_header(const unsigned char token[FORWARD_RELAY_TOKEN_LEN], char cmd,
    int port, unsigned char out[FORWARD_RELAY_HEADER_MAX]);
/* Should fw's next connection go straight to the container address? */
int forward_direct_due(const struct forward *fw);

/* A host's way of making the forward s of ws (its list, its lock): the
 * forward there already or a new one (borrowed), or NULL with *cause. */
typedef struct forward *(*forward_make_fn)(void *arg, const char *ws, const char *config,
    const struct forward_spec *s, int exact, char **cause);
/* The forwards of a "forward" request ({"workspace","config","forwards":
 * [{"local","port","service","requireLocal","label"}]}) made with make:
 * each made (or there already) into done as forward_json, each that could
 * not be into errors. One there already as an auto-forward is explicit
 * from then on (no onAutoForward: its watch does not move it), changed
 * under lock: what the host's status holds to read its forwards with
 * forward_json on another thread (NULL: none, one thread). */
void forward_request_make(const cJSON *req, forward_make_fn make, void *arg,
    pthread_mutex_t *lock, cJSON *done, cJSON *errors);
/* The agent's look at req's workspace (its relay answer with resolveOnly)
 * says it is no Compose workspace ("compose": false): req's forwards of a
 * service are taken out of it, each one's error (named by label, the host)
 * put in req's "refused", which forward_request_make answers as errors. */
void forward_request_drop_services(cJSON *req, const cJSON *look, const char *label);
/* A "forward" request with "attributes": true (`rdev forward TARGET
 * PORT`) takes the port attributes the agent's look at its workspace
 * answered ("ports", asked for with "includePorts": forward_resolve_request)
 * as VS Code gives them to a port forwarded by hand: each entry its label,
 * and without a "local" its requireLocalPort (onAutoForward is for
 * auto-forwards; rdev does not elevate). No "ports" (an older agent, a
 * stopped container, a look that timed out or failed: error, else NULL; no
 * look at all, the host away: look NULL and error saying so): the entries
 * stay as they are, and req notes why (FORWARD_ATTRIBUTES_UNREAD, for
 * forward_answer_notes()). */
void forward_request_take_attributes(cJSON *req, const cJSON *look, const char *error);
/* The member of a "forward" request where forward_request_take_attributes()
 * notes why its port attributes were not read (the broker's own). */
#define FORWARD_ATTRIBUTES_UNREAD "attributesUnread"
/* Add to answer resp (forward_answer_new()'s) the warning of what request
 * req noted: "port attributes not read (REASON): forwarded as typed". */
void forward_answer_notes(cJSON *resp, const cJSON *req);
/* Does "forward" request req add anything (a forward or an "auto" watch),
 * rather than only check the targets there are (`up`'s)? */
int forward_request_adds(const cJSON *req);
/* Do "forward"/"unforward" requests a and b concern the same workspace
 * folder (or does either name none: all of the host's)? Such requests
 * take effect in the order they came when one is an unforward (it waits
 * behind the other's look at its workspace). */
int forward_requests_overlap(const cJSON *a, const cJSON *b);
/* Is req a "forward" request (not an "unforward")? */
int forward_request_is_forward(const cJSON *req);
/* The "relay" request with "resolveOnly" that asks the agent whether req's
 * workspace and container are there, before its forwards are made (no "id";
 * new). */
cJSON *forward_resolve_request(const cJSON *req);
/* The error that refuses "forward" request req as a whole: the agent's
 * error (naming the host and the folder) and what was not made: "HOST: the
 * workspace folder /w does not exist: not forwarded: ports 3000, 8080:80;
 * no auto-forward watch". New string. */
char *forward_refused_message(const cJSON *req, const char *error);
/* Refuse "forward" request req (its id, its client on fd) as a whole for
 * the agent's error (naming the host): logged under label, answered
 * ok:false with forward_refused_message(), fd closed. The one refusal of
 * host-forward.c and local-forward.c. */
void forward_refuse(
    int fd, int id, const cJSON *req, const char *label, const char *error);
/* The warning for fw whose container is stopped (cause: the agent's
 * words): "localhost:L -> container port P: container stopped; the forward
 * answers once it runs (CAUSE)"; for a watch's relay (no local port) "the
 * auto-forward watch: container stopped; ...". New string. */
char *forward_stopped_warning(const struct forward *fw, const char *cause);
/* A "forward" request's answer {"id","ok":true,"result":{"forwards":[],
 * "errors":[]}}, with *done and *errors borrowed from it ("warnings":[]
 * is added when there is one: forward_parked_warning). */
cJSON *forward_answer_new(int id, cJSON **done, cJSON **errors);
/* A "forward" request waiting for the resolves of its container's
 * forwards (those forward_parked_for says: so that their errors are in its
 * answer): its client's connection and its answer so far, both owned until
 * it is answered. */
struct forward_parked {
	int fd;
	struct forward_key key; /* the request's container (no workspace: none) */
	cJSON *resp;
	/* its look at the workspace timed out: it is answered with no wait
	 * for a check in flight (one asked before it, or its own) */
	int unchecked;
	TAILQ_ENTRY(forward_parked) entry;
};
TAILQ_HEAD(forward_parked_list, forward_parked);
/* Send resp on a request's connection fd and close it. */
void forward_answer_send(int fd, const cJSON *resp);
/* Park the answer resp (taken) to the request req (its "workspace",
 * "config", "idLabels": ws NULL or "" for none) on fd (taken). Returns it,
 * borrowed (on list until forward_parked_answer sends it). */
struct forward_parked *forward_park(
    struct forward_parked_list *list, int fd, const cJSON *req, cJSON *resp);
/* Does parked answer p wait for fw's check (fw is its container's:
 * forward_of its key)? */
int forward_parked_for(const struct forward_parked *p, const struct forward *fw);
/* A resolve of fw failed: "localhost:LOCAL -> SPEC: error" ("the
 * auto-forward watch: error" for a watch's relay) goes once into the
 * "errors" of each parked answer fw is for, and fw's entry in its
 * "forwards" (if there) gets that as its "error": the forward stays (it is
 * tried again at each connection) but is not said to work. */
void forward_parked_error(
    struct forward_parked_list *list, const struct forward *fw, const char *error);
/* fw's check failed on the way (forward_check_warning): warning goes
 * into the "warnings" of each parked answer fw is for. */
void forward_parked_warning(
    struct forward_parked_list *list, const struct forward *fw, const char *warning);
/* Send the parked answers that wait for no resolve (waiting says; arg is
 * its) and close their connections; every one when waiting is NULL. */
void forward_parked_answer(struct forward_parked_list *list,
    int (*waiting)(void *arg, const struct forward_parked *p), void *arg);
/* Which forward does `rdev forward --stop LOCAL` with no TARGET mean?
 * statuses: an array of targets' status (host_session_status,
 * local_host_status), each with its "forwards". A live forward at local
 * port local on any of them is taken before an entry that only says a
 * saved forward was not restored (its "error"): that port may be another
 * target's now. Returns the workspace (borrowed from statuses), with
 * *index the status it is in and *not_restored 1 for a restore error's
 * entry; NULL when none is at local. */
const char *forward_status_pick(
    const cJSON *statuses, int local, int *index, int *not_restored);
/* An "unforward" request req's answer {"id","ok":true,"result":{"stopped":n}},
 * with req's "target" and "targetHost" (the broker's, for a stop of a port
 * on whichever target has it: its workspace, and its SSH host, none for
 * the local host) when it has them, and "notRestored":true when req has it
 * (what it stopped was a saved forward that was not re-created:
 * forward_status_pick). */
cJSON *forward_stopped_answer(int id, int n, const cJSON *req);
/* The entry status lists for saved forward saved (an element of a saved
 * host entry's "forwards") that could not be re-created, with its "error"
 * ("not restored: CAUSE"). New. */
cJSON *forward_restore_error(const cJSON *saved, const char *cause);
/* Re-create a saved host entry's "forwards" with make at their own local
 * ports, last first (each goes to the head of its host's list, as it was
 * made); each that cannot be is logged (naming label) and added to
 * *errors (an array made when needed) as status shows it, with its
 * "error". How many failed. A restored onAutoForward is set under lock
 * (as forward_request_make's; NULL: none). */
int forward_restore(const cJSON *list, const char *label, forward_make_fn make, void *arg,
    pthread_mutex_t *lock, cJSON **errors);
/* Remove the entries of ws (NULL: all) at local (0: any) from errors (a
 * restore's, may be NULL); how many. */
int forward_errors_forget(cJSON *errors, const char *ws, int local);

/* forward-check.c */
/* A request's check that failed on the way after this long (the agent
 * call's deadline: a stopped agent, a stuck login shell) is not sent again:
 * the retry would wait as long once more. */
#define FORWARD_RETRY_FAST_MS 10000
/* A request's check is sent at most this many times (struct forward's
 * request_send). */
#define FORWARD_REQUEST_SENDS 2
/* A "forward" request wants fw's target checked, whatever its age
 * (in_flight: a relay request of fw is under way). 1: the caller sends the
 * check now; 0: one more follows the answer in flight (forward_check_take
 * says FORWARD_ANSWER_AGAIN), which was asked before the request. */
int forward_check_wanted(struct forward *fw, int in_flight);
/* What the end of fw's relay request means for the connections waiting
 * for it (and for the "forward" answers parked for it). */
enum forward_answer {
	FORWARD_ANSWER_TARGET, /* taken or confirmed: they go to it */
	/* the request failed on the way (no agent, channel, timeout) and fw
	 * has a target: they go to it (it stays due for a check) */
	FORWARD_ANSWER_CACHED,
	/* the same for a "forward" request's check, sent once more already
	 * or not worth it (slow, or the session ending): the request's
	 * answer warns (forward_check_warning) */
	FORWARD_ANSWER_UNCHECKED,
	/* a "forward" request's check failed on the way the first time, in
	 * less than FORWARD_RETRY_FAST_MS: the caller sends it once more;
	 * waiting connections go to fw's target if it has one (as CACHED),
	 * else wait for that answer */
	FORWARD_ANSWER_RETRY,
	/* the agent's error (or an incomplete answer), or a failure with no
	 * target: they are closed, and the error is the forward's */
	FORWARD_ANSWER_FAILED,
	/* ask again (the caller sends another relay request): they wait */
	FORWARD_ANSWER_AGAIN,
};
/* How a relay request that brought no result ended (forward_check_take). */
enum forward_failure {
	FORWARD_FAILED_NONE,	   /* answered: res is its result */
	FORWARD_FAILED_ON_THE_WAY, /* no agent, channel, timeout: may pass */
	FORWARD_FAILED_REFUSED,	   /* the agent's own answer (ok:false) */
	/* on the way, and sent again it would fail the same: the host
	 * session is ending (lost, or the broker stopping) or its connection
	 * is gone (or was not there when the call started) */
	FORWARD_FAILED_ENDING,
};
/* Take the end of fw's relay request at now: its result res (error NULL,
 * how FORWARD_FAILED_NONE), or error and how it failed. For
 * FORWARD_ANSWER_UNCHECKED, *warning (unless warning is NULL) is what the
 * request's answer warns of (forward_check_warning), a new string. */
enum forward_answer forward_check_take(struct forward *fw, const cJSON *res,
    const char *error, enum forward_failure how, long long now, char **warning);
/* What a "forward" request's answer warns of when fw's check, sent sends
 * times, failed on the way with error ("twice" for 2): fw's connections go
 * to a target that may be the old container's. New string. */
char *forward_check_warning(const struct forward *fw, const char *error, int sends);
/* A "forward" request's look at its workspace did not answer in time
 * (error): fw is not checked now (a second call would wait as long
 * again), its first connection asks; a check of fw in flight, asked
 * before the request, is followed by another (check_again: its answer is
 * not the request's, and the request does not wait for it, see struct
 * forward_parked's unchecked). Returns the request's warning, a new
 * string (the caller frees it). */
char *forward_check_skipped(struct forward *fw, const char *error);
/* Take the end of fw's relay request (forward_check_take) and tell it,
 * the same way for every kind of host (label names it): a failed check
 * sent once more (FORWARD_ANSWER_RETRY) or passed over (CACHED) is
 * logged; a "forward" request's check that was not made (UNCHECKED) is
 * logged as a warning and its warning goes into the answers in parked
 * that fw is for. The caller sends another relay request for AGAIN and
 * RETRY, and makes the forward's error for FAILED. */
enum forward_answer forward_check_end(struct forward *fw,
    struct forward_parked_list *parked, const char *label, const cJSON *res,
    const char *error, enum forward_failure how, long long now);
/* What fw's relay request that just ended was, for the error it may leave
 * (call before forward_check_end): a "forward" request's check, or a
 * connection's look-up. */
enum forward_error_from forward_check_source(const struct forward *fw);
/* Do the connections waiting for fw's target go on waiting after answer a
 * (another relay request went, and there is no target to go to yet)? */
int forward_check_links_wait(const struct forward *fw, enum forward_answer a);
/* Log that a connection of fw waited forward_check_bound for a check and
 * goes to the target fw has (label names the host). */
void forward_check_log_late(const struct forward *fw, const char *label);

/* An auto-forward watch (`rdev forward --auto`, `up --auto-forward`): a
 * workspace's container, listed every second through its relay, whose new
 * listening ports are forwarded as portsAttributes' onAutoForward says. What
 * both kinds of host keep of it (forward-auto.c); how the listing is fetched
 * is theirs. */
struct forward_auto {
	char *workspace, *config;
	cJSON *attrs; /* {"portsAttributes","otherPortsAttributes"} */
	/* attrs before the last retarget to the same container (what
	 * forward_auto_move compares with; an empty object when there were
	 * none), or NULL: no such retarget since the watch was made, restored
	 * or moved */
	cJSON *prev_attrs;
	int *done; /* ports seen and handled (or ignored) */
	size_t ndone;
	long long next_ms; /* the next listing is due then (clock_now_ms) */
};
/* A new port an auto-forward watch found, and how to forward it. */
struct forward_auto_port {
	int port;
	const char *action; /* onAutoForward (not "ignore") */
	const char *label;  /* portsAttributes' label, or NULL */
	int require_local;
};

/* forward-auto.c */
void forward_auto_init(
    struct forward_auto *a, const char *ws, const char *config, const cJSON *attrs);
void forward_auto_clear(struct forward_auto *a);
/* A request's (or saved entry's) "config", "idLabels" and "hint" for a's
 * workspace (a new watch's request, or a restore): into a and its relay
 * (forward_take_request_fields: a target of another container is
 * dropped), whose new auto-forwards take them. Never a move: a restored
 * watch's forwards were saved with the container they go to. */
void forward_auto_take_request(
    struct forward_auto *a, struct forward *relay, const cJSON *from);
/* A "forward" request's "auto" (attrs) for the watch a there already (relay:
 * its relay), and the request's "config", "idLabels" and "hint"
 * (forward_auto_take_request). *was is filled with the key a followed
 * until now (the caller's to forward_key_clear), and a's attributes are
 * replaced by attrs. When they name another container than the one a
 * followed (another config, other idLabels): 1, a's seen ports are
 * forgotten (the new container's are listed afresh) and so are its old
 * attributes (prev_attrs cleared: a move is warned about anyway). Else 0:
 * its old attributes are kept in prev_attrs (an empty object for none),
 * which forward_auto_move compares with; its seen ports stay seen, but for
 * those only its old attributes ignored (the next listing forwards them).
 * Either way the caller then brings a's auto-forwards of *was up to date
 * (forward_auto_follows, forward_auto_move) in the same pass, and saves. */
int forward_auto_retarget(struct forward_auto *a, struct forward *relay, const cJSON *req,
    const cJSON *attrs, struct forward_key *was);
/* Is fw (not gone, of the dev container) an auto-forward of the container
 * was names: one that a watch retargeted from was made? Explicit forwards
 * (no onAutoForward) and those of any other container never are. */
int forward_auto_follows(const struct forward_key *was, const struct forward *fw);
/* Move fw (forward_auto_follows) to a's container, or bring it up to
 * date with a's attributes when that is its container still: relay's
 * fields (a target of another container dropped, asked again), and its
 * onAutoForward, label and requireLocalPort as a's attributes say for its
 * port. -1 when they say "ignore" (fw left as it is: the caller stops it);
 * else the sum of FORWARD_AUTO_UNMET (they say requireLocalPort and fw's
 * local port is not its container port: it stays where it is, not
 * required) and FORWARD_AUTO_CHANGED (its onAutoForward, label or
 * requireLocalPort changed, or the requireLocalPort a's attributes before
 * the same container's retarget said), or 0. The caller holds the lock an
 * SSH host's status reads its forwards under. */
#define FORWARD_AUTO_UNMET 1
#define FORWARD_AUTO_CHANGED 2
int forward_auto_move(
    const struct forward_auto *a, const struct forward *relay, struct forward *fw);
/* The broker log's line for fw after forward_auto_move (rc its result;
 * moved: forward_auto_retarget's): a warning when moved to the container
 * its watch follows now (with an unmet requireLocalPort said), stopped
 * (-1), or, for its own container, an unmet requireLocalPort when an
 * attribute changed; a note when only its attributes changed; nothing when
 * nothing changed for its own container. label names the host. */
void forward_auto_move_warn(const char *label, const struct forward *fw,
    const char *workspace, int moved, int rc);
/* Port was seen (and handled): not again. */
void forward_auto_mark(struct forward_auto *a, int port);
/* a as saved ({"workspace","config","attributes","idLabels","hint","seen"});
 * relay: its watch's relay forward, whose idLabels and hint name the
 * workspace. New object. */
cJSON *forward_auto_saved_json(const struct forward_auto *a, const struct forward *relay);
/* The saved entry's "seen" ports marked in a. */
void forward_auto_restore_seen(struct forward_auto *a, const cJSON *saved);
/* Take the relay's listing ("PORT ADDRESS" lines): each port not seen
 * before is marked, then skipped when exists(arg, port) says it is forwarded
 * already or its onAutoForward is "ignore" (logged, naming label), else
 * given to add(arg, ...). 1 when a port was marked (save the watch), else 0;
 * FORWARD_AUTO_NOT_LISTING, with nothing marked or added, when listing is
 * not a relay's (relay_listing_ok: another program has the relay's port;
 * the caller drops the target with forward_not_relay). */
#define FORWARD_AUTO_NOT_LISTING (-1)
int forward_auto_take_listing(struct forward_auto *a, char *listing, const char *label,
    int (*exists)(void *arg, int port),
    void (*add)(void *arg, const struct forward_auto_port *p), void *arg);

#endif
