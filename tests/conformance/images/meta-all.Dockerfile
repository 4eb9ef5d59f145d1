# Two metadata entries (as if a base image and a feature had contributed them)
# that between them set every row of the spec's merge table.
FROM rdev-test/bookworm:r1
LABEL devcontainer.metadata="[ \
 { \
  \"id\": \"base-image\", \
  \"init\": false, \
  \"privileged\": false, \
  \"capAdd\": [\"SYS_PTRACE\", \"NET_ADMIN\"], \
  \"securityOpt\": [\"seccomp=unconfined\"], \
  \"entrypoint\": \"/usr/local/share/base-init.sh\", \
  \"mounts\": [\"source=base-cache,target=/cache,type=volume\", {\"type\": \"volume\", \"source\": \"base-history\", \"target\": \"/commandhistory\"}], \
  \"onCreateCommand\": \"echo base onCreate\", \
  \"updateContentCommand\": [\"echo\", \"base\", \"updateContent\"], \
  \"postCreateCommand\": {\"base-a\": \"echo base a\", \"base-b\": [\"echo\", \"base b\"]}, \
  \"postStartCommand\": \"echo base postStart\", \
  \"postAttachCommand\": \"echo base postAttach\", \
  \"waitFor\": \"onCreateCommand\", \
  \"customizations\": {\"vscode\": {\"extensions\": [\"base.one\"], \"settings\": {\"editor.tabSize\": 4}}, \"rdev\": {\"base\": true}}, \
  \"containerEnv\": {\"BASE_ONLY\": \"base\", \"SHARED\": \"from-base\"}, \
  \"containerUser\": \"root\", \
  \"remoteUser\": \"base-user\", \
  \"userEnvProbe\": \"loginInteractiveShell\", \
  \"remoteEnv\": {\"BASE_REMOTE\": \"1\", \"SHARED_REMOTE\": \"from-base\"}, \
  \"overrideCommand\": true, \
  \"portsAttributes\": {\"3000\": {\"label\": \"base web\"}, \"9229\": {\"label\": \"debugger\", \"onAutoForward\": \"silent\"}}, \
  \"otherPortsAttributes\": {\"onAutoForward\": \"ignore\"}, \
  \"forwardPorts\": [3000, \"localhost:9229\"], \
  \"shutdownAction\": \"none\", \
  \"updateRemoteUserUID\": true, \
  \"hostRequirements\": {\"cpus\": 2, \"memory\": \"4gb\", \"storage\": \"16gb\"} \
 }, \
 { \
  \"id\": \"local-feature\", \
  \"init\": true, \
  \"privileged\": false, \
  \"capAdd\": [\"NET_ADMIN\", \"SYS_ADMIN\"], \
  \"securityOpt\": [\"seccomp=unconfined\", \"apparmor=unconfined\"], \
  \"entrypoint\": \"/usr/local/share/feature-init.sh\", \
  \"mounts\": [{\"type\": \"volume\", \"source\": \"feature-cache\", \"target\": \"/cache\"}], \
  \"onCreateCommand\": [\"echo\", \"feature onCreate\"], \
  \"postCreateCommand\": \"echo feature postCreate\", \
  \"waitFor\": \"updateContentCommand\", \
  \"customizations\": {\"vscode\": {\"extensions\": [\"feature.two\"]}}, \
  \"containerEnv\": {\"SHARED\": \"from-feature\"}, \
  \"remoteUser\": \"feature-user\", \
  \"remoteEnv\": {\"SHARED_REMOTE\": \"from-feature\"}, \
  \"overrideCommand\": false, \
  \"portsAttributes\": {\"3000\": {\"label\": \"feature web\", \"protocol\": \"https\"}}, \
  \"forwardPorts\": [3000, 8080], \
  \"updateRemoteUserUID\": false, \
  \"hostRequirements\": {\"cpus\": 4, \"memory\": \"2048mb\"} \
 } \
]"
