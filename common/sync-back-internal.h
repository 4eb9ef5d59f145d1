/* sync-back-internal.h - what common/sync-back.c shares with
 * sync-back-piece.c (a big file in pieces): one answer's apply. */
#ifndef RDEV_SYNC_BACK_INTERNAL_H
#define RDEV_SYNC_BACK_INTERNAL_H

#include <stddef.h>

#include "sync-back.h"
#include "sync-scan.h"

/* A file's bytes for sync_back_write: in memory, or already written to a
 * temporary file (tmp: its name in the file's folder, a big file's pieces;
 * left for the caller to remove when not renamed). */
struct sync_back_bytes {
	const unsigned char *data;
	size_t len;
	const char *tmp;
};

/* What one answer's apply needs. */
struct sync_back {
	int root;
	const char *rootpath;
	const struct sync_scan *sent;
	struct sync_scan *put; /* into sent: what now matches */
	struct sync_back_stats *st;
	unsigned seq;
	int aside;	    /* the agent takes "ignoredHere" */
	char *const *retry; /* sorted: entries not on the host (pull's) */
	size_t nretry;
};

/* sync-back.c */
/* The folder that holds rel under b's root, opened with O_NOFOLLOW on each
 * component (made when missing if create): a descriptor to close with
 * sync_back_close (b->root is not closed), and *leaf; -1 with errno. */
int sync_back_parent_at(
    struct sync_back *b, const char *rel, int create, const char **leaf);
void sync_back_close(const struct sync_back *b, int fd);
/* b64 (base64) into *out (new, freed by the caller even on failure) and
 * *len. 0, or -1. */
int sync_back_decode(const char *b64, unsigned char **out, size_t *len);
/* Is rel left out by ig (may be NULL; itself or a folder on its way)? */
int sync_back_ignored(const struct sync_ignore *ig, const char *rel, int is_dir);
/* Apply the host's entry e with its bytes by (files) under b's root. 0, or
 * -1 with *cause. */
int sync_back_put(struct sync_back *b, const struct sync_entry *e,
    const struct sync_back_bytes *by, char **cause);
/* File path not written here (why: cause, taken; NULL: path named): counted
 * and kept in b->st; not in a hot loop: st->more is cleared by the answer's
 * apply. */
void sync_back_failed(struct sync_back *b, const char *path, char *cause);

/* Path not applied here: b's answer is acknowledged without it (or not at
 * all), so that the agent reports it again. */
void sync_back_not_applied(struct sync_back *b, const char *path);

/* Path (a put, or a big file's piece) left out by the local ignore rules:
 * named in b->st->ignored_here when b->aside (the answer is then
 * acknowledged without it, and the agent keeps it aside), else
 * sync_back_not_applied. */
void sync_back_ignored_here(struct sync_back *b, const char *path);

/* sync-back-piece.c */
/* Apply piece (an answer's "piece", sync-piece.h in the agent) with pull's
 * state (may be NULL: ignored); a local write error is the file's
 * (sync_back_failed). 0, or -1 with *cause (a malformed piece). */
int sync_back_piece(struct sync_back *b, struct sync_back_pull *pull, const cJSON *piece,
    const struct sync_ignore *ig, char **cause);
/* Forget pull's big file, its temporary file removed (under root, a
 * descriptor; -1: left). */
void sync_back_piece_drop(struct sync_back_pull *pull, int root);

#endif
