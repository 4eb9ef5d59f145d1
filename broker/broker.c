/* broker.c - rdev-broker's command table and entry point. */
#include "broker.h"

#include <signal.h>

static const struct cmd_entry broker_commands[] = {
	{ "start", "[--foreground]", "start the broker (the client does this on demand)",
	  NULL, NULL },
	{ "status", "", "show sessions, channels and forwards", NULL, NULL },
	{ "stop", "", "stop the broker cleanly", NULL, NULL },
};

const struct cmd_program broker_program = {
	"rdev-broker",
	"The rdev broker: holds SSH sessions, port forwards and the host pool.",
	broker_commands,
	sizeof broker_commands / sizeof broker_commands[0],
};

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return cmd_main(&broker_program, argc, argv);
}
