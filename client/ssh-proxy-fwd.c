/* ssh-proxy-fwd.c - agent forwarding (`ssh -A`) for `rdev ssh-proxy`
 * (ssh-proxy-internal.h; docs/SSH-PROXY.md, "Agent forwarding"): on the
 * first auth-agent-req, one exec per proxy of `/.rdev-relay --agent-socket`
 * (once the relay is there, ssh-proxy-relay.c), whose first output is the
 * socket's path; the channels that asked wait for it (their stdin kept)
 * and then get SSH_AUTH_SOCK, or start without it when it cannot be made.
 * The connections to the socket are ssh-proxy-agent.c's.
 */
#include "ssh-proxy-internal.h"

#include <stdlib.h>

#include "log.h"
#include "proto-conn.h"
#include "xmalloc.h"

/* The agent socket is there or will not be: start the channels that
 * waited for it (with SSH_AUTH_SOCK, or without). */
static void
ssh_proxy_fwd_settled(struct ssh_proxy *p)
{
	struct ssh_proxy_chan *pc;
	char *script, *arg;

	LIST_FOREACH(pc, &p->chans, entry) {
		if (!pc->held || pc->state != SSH_PROXY_CHAN_OPEN)
			continue;
		pc->held = 0;
		script = pc->held_script;
		arg = pc->held_arg;
		pc->held_script = pc->held_arg = NULL;
		ssh_proxy_chan_start(pc, script, arg);
		free(script);
		free(arg);
	}
}

static void
ssh_proxy_fwd_failed(struct ssh_proxy *p, const char *why)
{
	log_warn("ssh-proxy: agent forwarding: %s", why);
	p->fwd = SSH_PROXY_FWD_FAILED;
	ssh_proxy_fwd_settled(p);
}

/* Start `/.rdev-relay --agent-socket` in the container (the relay is
 * there): its first output is the socket's path. */
static void
ssh_proxy_fwd_exec(struct ssh_proxy *p)
{
	cJSON *o, *argv;

	p->fwd_ch = p->next_agent_ch;
	p->next_agent_ch += 2;
	o = ssh_proxy_workspace_op(p, "exec", &p->fwd_id);
	argv = cJSON_AddArrayToObject(o, "command");
	cJSON_AddItemToArray(argv, cJSON_CreateString(SSH_PROXY_RELAY_PATH));
	cJSON_AddItemToArray(argv, cJSON_CreateString("--agent-socket"));
	cJSON_AddBoolToObject(o, "tty", 0);
	cJSON_AddNumberToObject(o, "channel", p->fwd_ch);
	ssh_proxy_queue(p, o);
	p->agent = ssh_proxy_agent_new(p->s, p->c, p->fwd_ch);
	p->fwd = SSH_PROXY_FWD_STARTING;
}

/* The agent socket is asked for (the relay first, unless known). */
static void
ssh_proxy_fwd_begin(struct ssh_proxy *p)
{
	p->fwd = SSH_PROXY_FWD_WAITING;
	if (p->relay == SSH_PROXY_RELAY_UNKNOWN)
		ssh_proxy_relay_ask(p);
	else if (p->relay == SSH_PROXY_RELAY_READY)
		ssh_proxy_fwd_exec(p);
	else if (p->relay == SSH_PROXY_RELAY_FAILED)
		ssh_proxy_fwd_failed(p, p->relay_error);
}

void
ssh_proxy_fwd_request(struct ssh_proxy_chan *pc)
{
	struct ssh_proxy *p = pc->p;

	if (pc->state != SSH_PROXY_CHAN_OPEN || pc->forward_port > 0)
		return;
	pc->agent_req = 1;
	/* (the link lost: nothing could be asked on it; the channel asks at
	 * its start, on the next link: ssh_proxy_fwd_hold) */
	if (p->fwd != SSH_PROXY_FWD_NONE || p->lost || p->lost_why != NULL)
		return;
	ssh_proxy_fwd_begin(p);
}

int
ssh_proxy_fwd_hold(struct ssh_proxy_chan *pc, const char *script, const char *arg)
{
	struct ssh_proxy *p = pc->p;

	if (!pc->agent_req)
		return 0;
	/* (asked while the link was lost, or the loss since undid it) */
	if (p->fwd == SSH_PROXY_FWD_NONE)
		ssh_proxy_fwd_begin(p);
	if (p->fwd != SSH_PROXY_FWD_WAITING && p->fwd != SSH_PROXY_FWD_STARTING)
		return 0;
	/* (the client's bytes meanwhile wait in pc->in) */
	pc->held = 1;
	pc->held_script = xstrdup(script);
	pc->held_arg = arg != NULL ? xstrdup(arg) : NULL;
	return 1;
}

void
ssh_proxy_fwd_env(struct ssh_proxy_chan *pc)
{
	struct ssh_proxy *p = pc->p;

	if (!pc->agent_req || p->fwd != SSH_PROXY_FWD_READY)
		return;
	if (pc->env == NULL)
		pc->env = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(pc->env, "SSH_AUTH_SOCK");
	cJSON_AddStringToObject(pc->env, "SSH_AUTH_SOCK", ssh_proxy_agent_path(p->agent));
}

void
ssh_proxy_fwd_relay_known(struct ssh_proxy *p)
{
	if (p->fwd != SSH_PROXY_FWD_WAITING)
		return;
	if (p->relay == SSH_PROXY_RELAY_READY)
		ssh_proxy_fwd_exec(p);
	else
		ssh_proxy_fwd_failed(p, p->relay_error);
}

int
ssh_proxy_fwd_lost(struct ssh_proxy *p)
{
	if (p->fwd == SSH_PROXY_FWD_NONE)
		return 0;
	/* (its connections' channels to ssh are closed with it) */
	ssh_proxy_agent_free(p->agent);
	p->agent = NULL;
	p->fwd = SSH_PROXY_FWD_NONE;
	return 1;
}

int
ssh_proxy_fwd_owns(const struct ssh_proxy *p, uint32_t channel)
{
	return p->agent != NULL && (channel == p->fwd_ch || channel == p->fwd_ch + 1);
}

/* Output, stderr or the end of the agent socket's exec. */
void
ssh_proxy_fwd_frame(struct ssh_proxy *p, const struct proto_frame *f)
{
	if (f->type == PROTO_DATA && f->channel == p->fwd_ch) {
		ssh_proxy_agent_output(p->agent, f->payload, f->len);
		if (p->fwd == SSH_PROXY_FWD_STARTING &&
		    ssh_proxy_agent_path(p->agent) != NULL) {
			log_debug("ssh-proxy: agent forwarding: %s",
			    ssh_proxy_agent_path(p->agent));
			p->fwd = SSH_PROXY_FWD_READY;
			ssh_proxy_fwd_settled(p);
		}
	} else if (f->type == PROTO_DATA)
		log_warn("ssh-proxy: agent forwarding: %.*s", (int)f->len,
		    (const char *)f->payload);
	else if (f->type == PROTO_CLOSE && f->channel == p->fwd_ch &&
	    p->fwd != SSH_PROXY_FWD_FAILED)
		ssh_proxy_fwd_failed(p, "the container's agent socket ended");
}

int
ssh_proxy_fwd_answer(struct ssh_proxy *p, int id, const cJSON *msg)
{
	if (p->fwd != SSH_PROXY_FWD_STARTING || id != p->fwd_id)
		return 0;
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok")))
		ssh_proxy_fwd_failed(p, ssh_proxy_answer_error(msg, "exec failed"));
	return 1;
}
