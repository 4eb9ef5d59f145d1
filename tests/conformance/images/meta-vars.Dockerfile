# Variables inside image metadata (escaped from the Dockerfile's own $
# substitution): which ones are substituted when merging.
FROM rdev-test/bookworm:r1
LABEL devcontainer.metadata="[ \
 { \
  \"containerEnv\": {\"LABEL_BASENAME\": \"\${localWorkspaceFolderBasename}\", \"LABEL_FOLDER\": \"\${localWorkspaceFolder}\", \"LABEL_CWF\": \"\${containerWorkspaceFolder}\", \"LABEL_LOCALENV\": \"\${localEnv:CONF_USER}\", \"LABEL_DEFAULT\": \"\${localEnv:CONF_UNSET:dflt}\"}, \
  \"remoteEnv\": {\"LABEL_PATH\": \"\${containerEnv:PATH}:/opt/label/bin\", \"LABEL_ID\": \"\${devcontainerId}\"}, \
  \"mounts\": [\"source=label-\${devcontainerId},target=/label-cache,type=volume\"], \
  \"postCreateCommand\": \"echo \${containerWorkspaceFolderBasename}\" \
 } \
]"
