# An empty metadata array: nothing to merge but the config itself.
FROM rdev-test/busybox:r1
LABEL devcontainer.metadata="[]"
