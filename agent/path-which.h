/* path-which.h - find a program in $PATH, as execvp would run it. */
#ifndef RDEV_PATH_WHICH_H
#define RDEV_PATH_WHICH_H

/* prog's path in $PATH (default "/usr/local/bin:/usr/bin:/bin"): the first
 * executable regular file; NULL when none. New string, caller frees. */
char *path_which(const char *prog);

#endif
