/* source.h - a workspace SOURCE (rdev up HOST: SOURCE, rdev up @POOL SOURCE)
 * and the folder it gets on a host: the one mapping every command uses, so
 * that `rdev exec HOST: ./app` finds what `rdev up HOST: ./app` uploaded.
 *
 * Forms (source_parse), as git reads a repository argument:
 *   https://..., http://..., ssh://..., git://..., file://...
 *                           a git URL (cloned on the host)
 *   [user@]host:path        a git URL in scp form, when no '/' comes before
 *                           the first ':' and nothing of that name exists here
 *   anything else           a local folder (uploaded to the host; must exist)
 *
 * The host folder is WORKSPACE_ROOT/NAME. NAME (source_parse fills it) is
 * the folder's basename (a URL's last path component without ".git"), made
 * of [A-Za-z0-9._-] and at most 40 bytes, then '-' and 12 hex digits: the
 * first 6 bytes of BLAKE2b over "USER@MACHINE", NUL, and the absolute folder
 * (symlinks resolved) or the URL as typed. The same source typed by the same
 * local user on the same machine always gets the same NAME; two users, two
 * machines or two folders of one basename never share one. WORKSPACE_ROOT is
 * the host's (the agent resolves it: agent/source-root.h), so NAME is all a
 * client sends.
 *
 * Pure apart from realpath/stat of a local folder and the local user and
 * machine names; no I/O on the host.
 */
#ifndef RDEV_SOURCE_H
#define RDEV_SOURCE_H

enum source_kind { SOURCE_LOCAL = 0, SOURCE_GIT };

/* A parsed SOURCE; every string owned by the struct (source_clear frees). */
struct source {
	enum source_kind kind;
	char *text; /* as typed */
	char *path; /* SOURCE_LOCAL: the folder, absolute, symlinks resolved */
	char *url;  /* SOURCE_GIT: the URL as typed */
	char *name; /* the host folder's name under the workspace root */
};

/* Is text a git URL by the rules above (without looking at the file system
 * for the scp form: source_parse does)? */
int source_is_url(const char *text);
/* Parse text into *s (need not be initialised). who is "USER@MACHINE" (NULL:
 * this process's user and machine: source_who()). 0, or -1 with *cause
 * ("source './x': no such folder") and *s cleared. */
int source_parse(const char *text, const char *who, struct source *s, char **cause);
void source_clear(struct source *s);
/* "USER@MACHINE" of this process. New string. */
char *source_who(void);
/* Is name a host folder name source_parse could make (one path component
 * of [A-Za-z0-9._-], not "." or "..")? The agent checks what it is sent. */
int source_name_ok(const char *name);

#endif
