# hostRequirements with every unit and a GPU object, merged as maxima.
FROM rdev-test/busybox:r1
LABEL devcontainer.metadata="[ \
 {\"hostRequirements\": {\"cpus\": 8, \"memory\": \"512mb\", \"storage\": \"1tb\", \"gpu\": {\"cores\": 100, \"memory\": \"8gb\"}}}, \
 {\"hostRequirements\": {\"memory\": \"1048576kb\", \"gpu\": \"optional\"}} \
]"
