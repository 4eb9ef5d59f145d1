/* main.c - rdev's entry point: dispatch by the command table (cmd.c). */
#include "client.h"

#include <signal.h>

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return cmd_main(&client_program, argc, argv);
}
