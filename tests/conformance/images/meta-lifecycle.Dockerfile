# Lifecycle commands and entrypoints in every form, for collection.
FROM rdev-test/bookworm:r1
LABEL devcontainer.metadata="[ \
 {\"entrypoint\": \"/base-entry.sh\", \"onCreateCommand\": \"echo one\", \"updateContentCommand\": \"echo one\", \"postCreateCommand\": [\"echo\", \"one\"], \"postStartCommand\": {\"svc\": \"echo one\"}, \"postAttachCommand\": [\"echo\", \"one\"]}, \
 {\"entrypoint\": \"/feature-entry.sh\", \"onCreateCommand\": {\"x\": [\"echo\", \"two\"], \"y\": \"echo two\"}, \"postCreateCommand\": \"echo two\", \"postStartCommand\": \"echo two\"} \
]"
