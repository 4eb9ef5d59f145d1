# Ports in every form: numbers, "localhost:N" (the same port as N),
# "host:N" and attributes keyed by port, range and label-less patterns.
FROM rdev-test/bookworm-dev:r1
LABEL devcontainer.metadata="[ \
 {\"forwardPorts\": [\"localhost:3000\", 5432, \"db:5432\", \"redis:6379\"], \"portsAttributes\": {\"5432\": {\"label\": \"postgres\", \"onAutoForward\": \"silent\"}, \"8000-8010\": {\"label\": \"range\"}, \"db:5432\": {\"label\": \"db host\"}}, \"otherPortsAttributes\": {\"onAutoForward\": \"notify\"}}, \
 {\"forwardPorts\": [3000, 9000], \"portsAttributes\": {\"9000\": {\"label\": \"ninek\", \"requireLocalPort\": true, \"elevateIfNeeded\": false}}} \
]"
