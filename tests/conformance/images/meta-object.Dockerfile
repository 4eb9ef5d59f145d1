# A label that is a single object rather than an array (older tools wrote it
# this way); it counts as a one-entry array.
FROM rdev-test/busybox:r1
LABEL devcontainer.metadata="{\"remoteUser\": \"obj-user\", \"containerEnv\": {\"FROM\": \"object-label\"}, \"postStartCommand\": \"echo object\", \"forwardPorts\": [4000]}"
