/* path.h - paths as strings (nothing resolved, no I/O). */
#ifndef RDEV_PATH_H
#define RDEV_PATH_H

/* Is path dir itself or under it (not a sibling whose name begins with
 * dir's: /x/app2 is not under /x/app)? A trailing '/' of dir is ignored
 * ("/" holds every absolute path). */
int path_within(const char *path, const char *dir);

#endif
