# Three entries with conflicting values, to exercise "last wins" with
# JavaScript truthiness: an empty remoteUser does not override, booleans do.
# Built on an image that already has a label; this LABEL replaces it.
FROM rdev-test/bookworm-meta:r1
LABEL devcontainer.metadata="[ \
 {\"remoteUser\": \"first\", \"containerUser\": \"c-first\", \"overrideCommand\": true, \"updateRemoteUserUID\": true, \"init\": true, \"privileged\": true, \"userEnvProbe\": \"none\", \"shutdownAction\": \"stopContainer\", \"waitFor\": \"postCreateCommand\"}, \
 {}, \
 {\"remoteUser\": \"\", \"containerUser\": \"c-second\", \"overrideCommand\": false, \"updateRemoteUserUID\": false, \"init\": false, \"privileged\": false, \"userEnvProbe\": \"\", \"containerEnv\": {\"CHAIN\": \"2\"}, \"remoteEnv\": {\"CHAIN_REMOTE\": null}}, \
 {\"capAdd\": [\"SYS_PTRACE\", \"SYS_PTRACE\"], \"securityOpt\": [], \"mounts\": [], \"forwardPorts\": []} \
]"
