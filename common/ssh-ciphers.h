/* ssh-ciphers.h - the SSH ciphers rdev offers, in its order of preference:
 * the broker's sessions to hosts (broker/ssh-session.c), the ssh-proxy's
 * server and the Host block `rdev ssh-config` writes (the client's list is
 * the one that decides, RFC 4253 7.1). AES-GCM first: with AES-NI it costs
 * less CPU per byte than chacha20-poly1305 (OpenSSH's own first choice),
 * which the ssh-proxy's bytes pay twice (its server and ssh);
 * bench/README.md. */
#ifndef RDEV_SSH_CIPHERS_H
#define RDEV_SSH_CIPHERS_H

#define RDEV_SSH_CIPHERS \
	"aes128-gcm@openssh.com,aes256-gcm@openssh.com," \
	"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr"

#endif
