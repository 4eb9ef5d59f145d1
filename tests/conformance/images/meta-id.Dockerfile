# ${devcontainerId} and ${containerEnv:...} inside image metadata (escaped
# from the Dockerfile's own $ substitution): substituted only once the
# workspace has a container. No named volume: the container=... cases make
# a container of this image.
FROM rdev-test/bookworm:r1
ENV FROM_IMAGE=image-env
LABEL devcontainer.metadata="[ \
 { \
  \"containerEnv\": {\"LABEL_ENV\": \"label-\${devcontainerId}\"}, \
  \"remoteEnv\": {\"LABEL_ID\": \"\${devcontainerId}\", \"LABEL_IMAGE_ENV\": \"\${containerEnv:FROM_IMAGE}\"}, \
  \"mounts\": [\"type=tmpfs,target=/label-\${devcontainerId}\"], \
  \"postStartCommand\": \"echo \${devcontainerId}\" \
 } \
]"
