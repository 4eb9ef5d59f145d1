FROM rdev-test/bookworm-meta:r1
