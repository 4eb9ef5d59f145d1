#!/usr/bin/env bash
# rig-netns.sh - a host in its own network namespace can disappear and return.
. "$(dirname "$0")/../rig/lib.sh"

name=$(rig_host_name n)
cfg=$(rig_host "$name" --netns)
check_eq "netns host answers" "$(ssh -F "$cfg" "$name" echo up)" "up"
bash "$RIG" host-link "$name" down
check "netns host is unreachable after its link is cut" \
	sh -c "! ssh -F '$cfg' -o ConnectTimeout=2 '$name' true 2>/dev/null"
bash "$RIG" host-link "$name" up
check_eq "netns host answers again once the link is back" \
	"$(ssh -F "$cfg" -o ConnectTimeout=5 "$name" echo back)" "back"
finish
