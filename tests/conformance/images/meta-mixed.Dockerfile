# A label array with entries that are not objects among objects (a string, a
# number, an array): the object entries still count. (Not null: the
# reference crashes on a null entry.)
FROM rdev-test/busybox:r1
LABEL devcontainer.metadata="[{\"remoteUser\": \"mixed\", \"capAdd\": [\"SYS_PTRACE\"]}, \"a string\", 3, [], {\"containerEnv\": {\"MIXED\": \"1\"}}]"
