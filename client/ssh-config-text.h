/* ssh-config-text.h - the text of ssh_config files as `rdev ssh-config`
 * writes them (cmd-ssh-config.c). Pure: no I/O. Every string returned is new
 * (the caller frees it).
 */
#ifndef RDEV_SSH_CONFIG_TEXT_H
#define RDEV_SSH_CONFIG_TEXT_H

/* s with every % doubled: ssh expands %-tokens in ProxyCommand and
 * UserKnownHostsFile. */
char *ssh_config_text_escape(const char *s);
/* The default Host name for a workspace folder: rdev-<its basename>, with
 * what a Host pattern would read otherwise (*, ?, !, spaces, non-ASCII
 * bytes...) as _; when any was replaced, "-" and ssh_config_text_hash(id)
 * after it (so `~/wé` and `~/wü`, `~/my ws` and `~/my_ws` differ). id: what
 * names the workspace (the proxy's command from its ssh-proxy on). */
char *ssh_config_text_alias(const char *folder, const char *id);
/* Six hex digits of a hash of id (FNV-1a): an alias's suffix. */
char *ssh_config_text_hash(const char *id);
/* The ProxyCommand of text's `Host alias` block (up to its line's end), or
 * NULL when text has no such block or it none. */
char *ssh_config_text_proxy(const char *text, const char *alias);
/* What names the workspace in a ProxyCommand: its shell words from
 * `ssh-proxy` on (target, source, --config, --id-label; as quoted there),
 * one space apart, without options that do not (--fdpass). New string. */
char *ssh_config_text_identity(const char *proxy);
/* Whether two ProxyCommands run `ssh-proxy` for the same workspace (their
 * ssh_config_text_identity: whatever the rdev program's path, --fdpass or
 * not). */
int ssh_config_text_same_proxy(const char *a, const char *b);
/* old (a config file's text) without the block of `Host alias` (its line
 * to the next Host or Match line), then block after a newline if needed. */
char *ssh_config_text_replace(const char *old, const char *alias, const char *block);
/* Does text have an Include line naming name? */
int ssh_config_text_includes(const char *text, const char *name);

#endif
