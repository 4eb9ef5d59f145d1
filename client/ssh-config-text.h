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
 * what a Host pattern would read otherwise (*, ?, !, spaces...) as _. */
char *ssh_config_text_alias(const char *folder);
/* old (a config file's text) without the block of `Host alias` (its line
 * to the next Host or Match line), then block after a newline if needed. */
char *ssh_config_text_replace(const char *old, const char *alias, const char *block);
/* Does text have an Include line naming name? */
int ssh_config_text_includes(const char *text, const char *name);

#endif
