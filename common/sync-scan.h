/* sync-scan.h - what an upload of a folder would send: its entries (files,
 * folders, symlinks), with the contents' hashes, and the manifest the agent
 * compares with the host's copy (docs/PROTOCOL.md, "sync").
 *
 * The scan never follows a symlink: a link is an entry of its own (its
 * target as text, whatever it points at, inside the tree or out of it), and
 * folders are entered with O_NOFOLLOW, so nothing outside the folder is ever
 * read. Other types (sockets, FIFOs, devices) are skipped and counted.
 * Paths left out by the folder's .rdevignore files (sync-ignore.h) are not
 * entered.
 *
 * A file's hash is BLAKE2b-128 of its bytes, as 32 hex digits. A previous
 * scan (prev) lends the hash of each file whose size, mtime and inode are
 * unchanged, so a second scan of a big tree reads only what changed.
 *
 * Kept apart from sending (client/source-sync.c) so that a live sync can
 * scan again and diff on its own.
 */
#ifndef RDEV_SYNC_SCAN_H
#define RDEV_SYNC_SCAN_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sync-ignore.h"

#define SYNC_HASH_HEX 32 /* hex digits of a content hash */

/* One entry of a folder (the folder itself is not one). */
struct sync_entry {
	char *path;		      /* relative, '/'-separated, never "" */
	char type;		      /* 'f' file, 'd' folder, 'l' symlink */
	unsigned mode;		      /* permission bits (07777 masked to 0777) */
	long long size;		      /* 'f': bytes */
	long long mtime_ns;	      /* 'f': for prev's reuse */
	unsigned long long ino;	      /* 'f': for prev's reuse */
	char *link;		      /* 'l': the target as read */
	char hash[SYNC_HASH_HEX + 1]; /* 'f' */
};

/* Of a scan's skipped entries, the names no sync carries shown in a
 * warning: the first this many (by strcmp), then how many more. */
#define SYNC_SCAN_SKIPPED_SHOWN 5

/* A folder's entries in path order (strcmp); owned by the struct, as are
 * the bad names' strings. */
struct sync_scan {
	struct sync_entry *v;
	size_t n;
	size_t skipped; /* entries of another type or name, not sent */
	/* Of skipped: names no sync carries (a control character, a path
	 * too long), and the first of them by strcmp (raw, relative). */
	size_t bad_names;
	char *bad_shown[SYNC_SCAN_SKIPPED_SHOWN];
	size_t nbad_shown;
	size_t hashed;	 /* files read to hash (not lent by prev) */
	long long bytes; /* total size of the files */
};

#define SYNC_SCAN_GIT 0x01	 /* send .git too (left out by default) */
#define SYNC_SCAN_GITIGNORE 0x02 /* leave out what .gitignore files say */
/* Not a scan flag, kept with them by a live sync: changes made on the host
 * come back (docs/SYNC.md, "Two-way"). */
#define SYNC_SCAN_TWO_WAY 0x04
/* The prefix of a two-way sync's temporary files (common/sync-back.c),
 * left out of every sync, both ways (one left by a crash is never sent). */
#define SYNC_BACK_TMP ".rdev-back-"

/* What a sync of root leaves out: ".git" (any depth) unless SYNC_SCAN_GIT,
 * with SYNC_SCAN_GITIGNORE the patterns of every .gitignore, and last those
 * of every .rdevignore (so their "!" lines win over .gitignore's); each
 * file's patterns match below its own folder, a deeper file's winning over
 * its parents', and only files in folders not left out are read, as in
 * git. New; the caller frees with sync_ignore_free. 0, or -1 with *cause
 * when a file exists but cannot be read. */
int sync_scan_ignore(
    const char *root, unsigned flags, struct sync_ignore **ig, char **cause);
/* Scan root (a folder) with ig (may be NULL). prev (may be NULL) lends
 * hashes. A live tree: an entry that goes while the scan walks (listed,
 * then deleted before it is read) is left out, not an error. 0 and a new
 * *out (sync_scan_free), or -1 with *cause naming the path that could not
 * be read (root itself gone is one). */
int sync_scan(const char *root, const struct sync_ignore *ig,
    const struct sync_scan *prev, struct sync_scan **out, char **cause);
/* Scan only rel under root (a live tree: what goes meanwhile is left out):
 * the entry at rel and, for a folder, everything under it; nothing when rel
 * is gone, left out by ig, or under a folder that is ("" scans all, as
 * sync_scan). The folders on the way are opened with O_NOFOLLOW. 0 and a
 * new *out, or -1 with *cause. */
int sync_scan_under(const char *root, const char *rel, const struct sync_ignore *ig,
    const struct sync_scan *prev, struct sync_scan **out, char **cause);
/* Is rel (a path a watch saw change under root) an entry there whose name
 * no sync carries (a control character, too long: sync_path_ok fails), so
 * that sync_scan_under skipped it? For a warning that names it (quoted),
 * checked only when a scan's skipped count says something was skipped. */
int sync_scan_name_skipped(const char *root, const char *rel);
/* Why, in that warning. */
#define SYNC_SCAN_SKIPPED_WHY \
	"a control character in its name, or a path over 4095 bytes: not synced"
/* The roots (n paths under root) that sync_scan_name_skipped finds, for one
 * warning line a batch: the first SYNC_SCAN_SKIPPED_SHOWN quoted, then
 * "and N more"; a new string (the caller frees), or NULL when none. */
char *sync_scan_skipped_names(const char *root, char *const *roots, size_t n);
/* The bad names a scan skipped, in the same form ("a", "b" and N more,
 * each quoted as quote_string does): a new string (the caller frees), or
 * NULL when none. */
char *sync_scan_bad_names(const struct sync_scan *s);
/* Free s's bad names (bad_shown; the count stays): for a caller that frees
 * a scan's parts itself, not with sync_scan_free. */
void sync_scan_bad_clear(struct sync_scan *s);
/* sync_scan_under of each of roots (n paths) into one scan (entries under
 * overlapping roots may come twice: sync_delta_new drops them). 0 and a
 * new *out, or -1 with *cause. */
int sync_scan_roots(const char *root, char *const *roots, size_t n,
    const struct sync_ignore *ig, const struct sync_scan *prev, struct sync_scan **out,
    char **cause);
/* Apply put (taken; in path order) and drop (ndrop paths, sorted by
 * strcmp; borrowed) to *base (replaced): put's entries replace or join
 * base's, dropped paths go. Pure: the agent's index journal, the two-way
 * sync's state of what was synced. */
void sync_scan_apply(
    struct sync_scan **base, struct sync_scan *put, char *const *drop, size_t ndrop);
void sync_scan_free(struct sync_scan *s);
/* A copy of s (new, sync_scan_free): its entries, their path and link
 * strings, and its counts. */
struct sync_scan *sync_scan_copy(const struct sync_scan *s);
/* e into *to (overwritten), to->path and to->link new (sync_entry_clear). */
void sync_entry_copy(struct sync_entry *to, const struct sync_entry *e);
/* Free what e owns (its path and link); e itself is the caller's. */
void sync_entry_clear(struct sync_entry *e);
/* The entry of path, or NULL (binary search). Borrowed from s. */
const struct sync_entry *sync_scan_find(const struct sync_scan *s, const char *path);
/* A stat time (st_mtim, st_ctim) in nanoseconds since the epoch, as a
 * sync_entry's mtime_ns holds it; outside 1678-2262 the value wraps (it is
 * compared for equality only). */
long long sync_time_ns(const struct timespec *ts);
/* Hash fd's bytes from its current offset to the end into hex
 * (SYNC_HASH_HEX + 1 bytes). 0, or -1 with errno. */
int sync_hash_fd(int fd, char *hex);

/* The order of a scan (strcmp of the paths), for qsort and bsearch: of
 * path strings (char *), and of entries (struct sync_entry). */
int sync_path_cmp(const void *a, const void *b);
int sync_entry_cmp(const void *a, const void *b);

/* Is path one a sync may name: relative, '/'-separated, no empty, "." or
 * ".." component, no control characters (C0, DEL, C1 in UTF-8: quote.h's),
 * at most 4095 bytes? */
int sync_path_ok(const char *path);

/* The manifest of s as the sync request carries it: [["f",PATH,HASH,MODE,
 * SIZE],["d",PATH,MODE],["l",PATH,TARGET],...]; with_stat adds MTIME (seconds,
 * nanoseconds) and INODE to each "f" (the agent's index of what it wrote). New array. */
cJSON *sync_scan_manifest(const struct sync_scan *s, int with_stat);
/* A manifest back into a scan (mtimes and inodes when it has them). 0, or
 * -1 with *cause for a malformed entry (the agent's check of what it is
 * sent). */
int sync_scan_from_manifest(const cJSON *m, struct sync_scan **out, char **cause);
/* A batch's "delete" list (an array of paths, each sync_path_ok) into
 * *out (new: free each and the array) and *n. 0, or -1 with *cause. */
int sync_paths_from_json(const cJSON *a, char ***out, size_t *n, char **cause);
/* Free n paths (each, and the array; paths may be NULL when n is 0), as
 * sync_paths_from_json makes them. */
void sync_paths_free(char **paths, size_t n);

#endif
