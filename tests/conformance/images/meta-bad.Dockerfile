# A label that is not JSON: ignored (with a warning), as if absent.
FROM rdev-test/busybox:r1
LABEL devcontainer.metadata="[{\"remoteUser\": \"broken\"},"
