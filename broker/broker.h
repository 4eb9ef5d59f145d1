/* broker.h - rdev-broker, the per-user daemon holding SSH sessions and forwards. */
#ifndef RDEV_BROKER_H
#define RDEV_BROKER_H

#include "cmd.h"

/* broker.c */
extern const struct cmd_program broker_program;

#endif
