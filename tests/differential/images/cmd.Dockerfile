# For the override-command case: an ENTRYPOINT and a CMD that keeps running,
# which "overrideCommand": false must keep.
FROM rdev-test/bookworm:r1
ENV IMAGE_ENV=from-image
WORKDIR /srv
ENTRYPOINT ["/usr/bin/env"]
CMD ["sleep", "infinity"]
