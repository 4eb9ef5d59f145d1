/* broker.c - rdev-broker's command table and entry point. */
#include "broker.h"

#include <signal.h>

static const struct cmd_entry broker_commands[] = {
	{ "start", "[--foreground] [--idle-timeout SECONDS]",
	    "start the broker (the client does this on demand)",
	    "One broker per user. It listens on $XDG_RUNTIME_DIR/rdev/broker.sock (else\n"
	    "/tmp/rdev-UID/broker.sock; $RDEV_RUNTIME_DIR overrides the folder), logs "
	    "to\n"
	    "broker.log there, and keeps one SSH session per host.\n\n"
	    "options:\n"
	    "  --foreground          stay attached and log to stderr (debugging)\n"
	    "  --idle-timeout SECS   close a host session after SECS without clients\n"
	    "                        (default 600; also $RDEV_BROKER_IDLE_TIMEOUT)\n"
	    "\nExit 0 also when a broker is already running (unless --foreground).\n",
	    broker_cmd_start },
	{ "status", "[--json]", "show sessions, channels, forwards and syncs",
	    "Exit 0 when a broker runs, 3 when none does.\n", broker_cmd_status },
	{ "stop", "[--forget]", "stop the broker cleanly (closes its SSH sessions)",
	    "Forwards and auto-forward watches are saved (state.json next to the\n"
	    "socket), and so are the live syncs of `rdev up --sync` (syncs.json):\n"
	    "they come back when the next broker starts (the next rdev command\n"
	    "starts one), as they do after a crash.\n\n"
	    "options:\n"
	    "  --forget   forget them instead: the next broker starts with none\n",
	    broker_cmd_stop },
	{ "restart", "[--idle-timeout SECS]",
	    "stop the broker, then start this install's",
	    "The way to switch to a new build of rdev-broker: `stop` (the forwards\n"
	    "and syncs are saved and come back; open sessions end), then `start`.\n"
	    "rdev warns when the running broker is an older build of its own\n"
	    "rdev-broker; it never restarts one by itself. A broker run by the\n"
	    "systemd user unit: `systemctl --user restart rdev-broker` instead.\n"
	    "options:\n"
	    "  --idle-timeout SECS   as for start\n",
	    broker_cmd_restart },
};

_Static_assert(sizeof broker_commands / sizeof broker_commands[0] == 4,
    "broker_command_list lists every entry");
static const struct cmd_entry *const broker_command_list[] = {
	&broker_commands[0],
	&broker_commands[1],
	&broker_commands[2],
	&broker_commands[3],
	NULL,
};

const struct cmd_program broker_program = {
	"rdev-broker",
	"The rdev broker: holds SSH sessions, port forwards and the host pool.",
	broker_command_list,
	NULL,
	NULL,
	NULL,
	NULL,
};

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return cmd_main(&broker_program, argc, argv);
}
