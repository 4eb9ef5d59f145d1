/* image-ref.h - Docker image references ("registry:5000/team/app:1.2",
 * "app@sha256:..."), checked by the grammar of Docker's reference package
 * (github.com/distribution/reference, as `docker build -t` and `docker tag`
 * parse them), so that a build refuses a name Docker would refuse before it
 * builds, not after. Pure: no I/O, no globals.
 *
 *   reference := name [":" tag] ["@" digest]
 *   name      := [domain "/"] path-component ["/" path-component]*
 *   domain    := host [":" port]; host: domain-component ["." ...], or an
 *                IPv6 address in brackets; domain-component
 *                [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?; port [0-9]+
 *   path-component := [a-z0-9]+ ([._] | "__" | "-"+) [a-z0-9]+ ...
 *   tag       := [\w][\w.-]{0,127}
 *   digest    := algorithm ":" [0-9a-fA-F]{32,}; algorithm
 *                [A-Za-z][A-Za-z0-9]* ([+._-] [A-Za-z][A-Za-z0-9]*)*
 *
 * As Docker's ParseNormalizedNamed, the first component is the registry
 * only when a '/' follows it and it has a '.' or ':', is "localhost" or has
 * an upper-case letter; the name as Docker normalises it (docker.io/ when
 * there is no registry, library/ when docker.io's path has one component:
 * "app" is "docker.io/library/app") is at most 255 bytes; a reference that
 * is just 64 lower-case hex digits (an image id) is refused.
 */
#ifndef RDEV_IMAGE_REF_H
#define RDEV_IMAGE_REF_H

#include <stddef.h>

/* What image_ref_parse() found: lengths into the string it was given. */
struct image_ref {
	size_t domain_len; /* the registry host[:port]; 0: none */
	size_t name_len;   /* the whole name (domain and path) */
	size_t tag_len;	   /* 0: none; else it starts at name_len + 1 */
	size_t digest_len; /* 0: none; else the string's last digest_len bytes */
};

/* Parse s as an image reference. 0 with *ref filled, or -1 with *why (a
 * static string, Docker's words where it has them: "repository name must be
 * lowercase"). */
int image_ref_parse(const char *s, struct image_ref *ref, const char **why);

/* Is s a name a build can tag its image with: a reference without a digest
 * (docker build -t takes no digest)? NULL, or a message naming what (the
 * flag: "--image-name") and s, quoted when it holds control characters:
 * "--image-name Bad:Name: repository name must be lowercase". New string,
 * the caller frees it. */
char *image_ref_tag_check(const char *what, const char *s);

#endif
