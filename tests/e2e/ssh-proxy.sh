#!/usr/bin/env bash
# ssh-proxy.sh - `rdev ssh-config` and `rdev ssh-proxy` with the real OpenSSH
# client: the Host block (ProxyCommand with rdev's absolute path, the proxy's
# key pinned: no prompt under BatchMode, a changed key refused), --write
# (~/.ssh/rdev.config, a block replaced not repeated, the Include only with
# --yes and only once; aliases kept apart: a hash for names that sanitise
# alike or whose block another workspace has, --force to replace that); `ssh ALIAS CMD` on a rig host's workspace: exit
# statuses, stdout and stderr apart, a few MB of binary stdin byte-exact,
# remoteUser, workspace folder, remoteEnv, LANG sent by the client, a command
# killed by a signal (exit-signal), no container (125 and the hint); a shell through a real
# terminal (`ssh -tt`: TERM, size, resize, exit status); ssh -L and -W to
# the container's loopback (a 127.0.0.1-only server, half close, 20 at once,
# a closed port); VS Code's way (`ssh -T -D PORT
# HOST bash`, its script on stdin, SOCKS to 127.0.0.1); --fdpass for a
# client that ignores ProxyUseFdpass on one socket (a libssh client, an
# in-band relay); scp and sftp (and the
# message naming the package without sftp-server); a local target, a Compose
# workspace (ssh -L to its app container's 127.0.0.1 and to another service by
# name, an unresolvable name); after `up --recreate`, `rdev forward` and ssh -L
# to the new container, not a decoy at the old one's address; a connect's entry
# freed with its last connection.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

# A connect's entry is freed 4 s after its last connection, not 10 s
# (HOST_CONNECT_IDLE_MS): long enough for the serial client's next
# connection below (1 s later) to find it, and the wait for it to go shorter.
export RDEV_HOST_CONNECT_IDLE_MS=4000
rig_remote_host sp
drive=$RDEV_SOURCE_DIR/tests/e2e/pty_drive.py
export HOME=$TEST_TMP/home
mkdir -p "$HOME"

# A network of its own, so that after the recreate below a decoy can be put
# at the old container's address (docker run --ip) and the new container
# gets another.
net=rdev-sp-$$
ssh_proxy_net_cleanup() {
	docker ps -aq --filter "network=$net" | xargs -r docker rm -f >/dev/null
	docker network rm "$net" >/dev/null 2>&1 || true
}
project=
fwd= agent_pid= decoy= lup=
ssh_proxy_cleanup() {
	local rc=$?
	set +e # (exit $rc) below must not end the trap
	[ -z "$fwd" ] || kill "$fwd" 2>/dev/null || true
	# (the local target's up, made in the background: its project too)
	if [ -n "$lup" ]; then
		wait "$lup" 2>/dev/null || true
		[ -n "$project" ] || project=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}}' \
			"$(jq -r '.containerId // empty' "$TEST_TMP/lup.json" 2>/dev/null)" 2>/dev/null) || true
	fi
	[ -z "$decoy" ] || docker rm -f "$decoy" >/dev/null 2>&1 || true
	[ -z "$agent_pid" ] || kill "$agent_pid" 2>/dev/null || true
	if [ -n "$project" ]; then
		docker ps -aq --filter "label=com.docker.compose.project=$project" | xargs -r docker rm -f >/dev/null
		docker network ls -q --filter "label=com.docker.compose.project=$project" |
			xargs -r docker network rm >/dev/null 2>&1 || true
	fi
	ssh_proxy_net_cleanup
	(exit $rc)
	rig_remote_cleanup ws
}
trap ssh_proxy_cleanup EXIT
# (a subnet of its own: --ip needs one; another test's may overlap: try again)
for try in 1 2 3 4 5; do
	docker network create --subnet "10.213.$(((RANDOM + $$ + try) % 256)).0/24" "$net" \
		>/dev/null 2>&1 && break
	[ "$try" != 5 ] || fail "docker network create $net"
done
on_host "mkdir -p ~/ws && printf '%s' '{\"image\": \"$RDEV_RIG_IMAGE_BOOKWORM_DEV\",
	\"runArgs\": [\"--network\", \"$net\"],
	\"remoteUser\": \"dev\", \"updateRemoteUserUID\": false,
	\"remoteEnv\": {\"RE\": \"remote-env\"}}' > ~/ws/.devcontainer.json &&
	mkdir -p ~/nows && sed 's|^{|{\"workspaceFolder\": \"/workspaces/ws\", |' ~/ws/.devcontainer.json > ~/nows/.devcontainer.json"
# The local target is a Compose workspace (its folder's name is the project's:
# this test's own), with a second service that ssh -L reaches by its name.
lws=$TEST_TMP/lws-$$
mkdir -p "$lws/.devcontainer"
cat >"$lws/.devcontainer/docker-compose.yml" <<YAML
version: "3"
services:
  app:
    image: $RDEV_RIG_IMAGE_BOOKWORM_DEV
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep infinity & wait"]
    volumes:
      - ..:/workspace
  db:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "mkdir -p /www && echo from-db > /www/x && exec httpd -f -p 8080 -h /www"]
YAML
printf '{"dockerComposeFile": "docker-compose.yml", "service": "app", "remoteUser": "dev",
	"workspaceFolder": "/workspace", "updateRemoteUserUID": false}' \
	>"$lws/.devcontainer/devcontainer.json"

rdev up "$name:~/ws" >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up $name:~/ws failed"; }

# --- ssh-config -----------------------------------------------------------------
rdev ssh-config "$name:~/ws" >"$TEST_TMP/cfg"
check "ssh-config: Host rdev-<folder name>" grep -qx 'Host rdev-ws' "$TEST_TMP/cfg"
check "ssh-config: ProxyCommand is rdev ssh-proxy TARGET --fdpass, by absolute path" \
	grep -qxF "    ProxyCommand $(readlink -f "$RDEV_BIN_DIR/rdev") ssh-proxy '$name:~/ws' --fdpass" "$TEST_TMP/cfg"
check "ssh-config: ssh takes the proxy's socket (ProxyUseFdpass)" grep -qx '    ProxyUseFdpass yes' "$TEST_TMP/cfg"
check "ssh-config: the key is pinned by HostKeyAlias" grep -qx '    HostKeyAlias rdev-ssh-proxy' "$TEST_TMP/cfg"
kh=$RDEV_STATE_DIR/ssh-proxy/known_hosts
check_eq "ssh-config: the known_hosts file holds the proxy's public key" \
	"$(cut -d' ' -f2- "$kh")" "$(ssh-keygen -y -f "$RDEV_STATE_DIR/ssh-proxy/host_key")"
check_eq "the host key is 0600" "$(stat -c %a "$RDEV_STATE_DIR/ssh-proxy/host_key")" 600
key1=$(sha256sum <"$RDEV_STATE_DIR/ssh-proxy/host_key")
rdev ssh-config "$name:~/ws" --host-alias dev1 >"$TEST_TMP/cfg1"
check "ssh-config --host-alias" grep -qx 'Host dev1' "$TEST_TMP/cfg1"
check_eq "the key is made once" "$(sha256sum <"$RDEV_STATE_DIR/ssh-proxy/host_key")" "$key1"

rdev ssh-config "$name:~/ws" --write >/dev/null 2>"$TEST_TMP/w1.err"
rdev ssh-config "$name:~/ws" --write >/dev/null 2>"$TEST_TMP/w2.err"
rdev ssh-config "$name:~/ws" --write --host-alias dev1 >/dev/null 2>&1
check_eq "--write: each block once in ~/.ssh/rdev.config" \
	"$(grep '^Host ' "$HOME/.ssh/rdev.config" | sort | tr '\n' ' ')" "Host dev1 Host rdev-ws "
check "--write without --yes leaves ~/.ssh/config alone and says so" \
	sh -c "test ! -e '$HOME/.ssh/config' && grep -q 'run again with --yes' '$TEST_TMP/w1.err'"
printf 'Host other\n    User x\n' >"$HOME/.ssh/config"
rdev ssh-config "$name:~/ws" --write --yes >/dev/null 2>&1
rdev ssh-config "$name:~/ws" --write --yes >/dev/null 2>&1
check_eq "--write --yes: the Include at the top of ~/.ssh/config, once" \
	"$(head -1 "$HOME/.ssh/config")/$(grep -c Include "$HOME/.ssh/config")" "Include rdev.config/1"
check "--write --yes keeps the rest of ~/.ssh/config" grep -qx 'Host other' "$HOME/.ssh/config"
# Aliases apart: names that sanitise alike get a hash of the workspace; a
# default alias another workspace's block has gets one too (said); a
# --host-alias of another workspace's block is refused without --force.
alias_of() { rdev ssh-config "$@" 2>/dev/null | sed -n 's/^Host //p'; }
a1=$(alias_of "$name:~/wé") a2=$(alias_of "$name:~/wü")
check "ssh-config: ~/wé and ~/wü get aliases of their own ($a1, $a2)" \
	sh -c "[ '$a1' != '$a2' ] && case '$a1' in rdev-w__-??????) ;; *) exit 1;; esac"
a1=$(alias_of "$name:~/my ws") a2=$(alias_of "$name:~/my_ws")
check "ssh-config: ~/my ws and ~/my_ws too ($a1, $a2)" sh -c "[ '$a1' != '$a2' ] && [ '$a2' = rdev-my_ws ]"
rdev ssh-config "$name:/srv/ws" --write >/dev/null 2>"$TEST_TMP/srv.err"
srv_alias=$(sed -n 's/.*this one is Host //p' "$TEST_TMP/srv.err")
check "--write: /srv/ws, whose rdev-ws is ~/ws's, gets another alias and says so ($(cat "$TEST_TMP/srv.err"))" \
	sh -c "case '$srv_alias' in rdev-ws-??????) ;; *) exit 1;; esac"
check "... ~/ws's block is kept" \
	sh -c "grep -A1 -x 'Host rdev-ws' '$HOME/.ssh/rdev.config' | grep -qF \"ssh-proxy '$name:~/ws'\""
check "... and /srv/ws's written under its own" grep -qx "Host $srv_alias" "$HOME/.ssh/rdev.config"
rdev ssh-config "$name:~/ws" --write --host-alias pick1 >/dev/null 2>&1
st=0
rdev ssh-config "$name:/srv/ws" --write --host-alias pick1 >/dev/null 2>"$TEST_TMP/pick.err" || st=$?
check "--write --host-alias of another workspace's block: refused ($(cat "$TEST_TMP/pick.err"))" \
	sh -c "[ $st = 1 ] && grep -q 'reaches another workspace.*--force' '$TEST_TMP/pick.err'"
check "... the block kept" sh -c "grep -A1 -x 'Host pick1' '$HOME/.ssh/rdev.config' | grep -qF \"'$name:~/ws'\""
rdev ssh-config "$name:/srv/ws" --write --host-alias pick1 --force >/dev/null 2>"$TEST_TMP/pick2.err"
check "... with --force: replaced, and said" sh -c "grep -q 'replaced (--force)' '$TEST_TMP/pick2.err' &&
	grep -A1 -x 'Host pick1' '$HOME/.ssh/rdev.config' | grep -qF 'ssh-proxy $name:/srv/ws '"

# --- exec through ssh ------------------------------------------------------------
# (background ones call ssh itself: `kill $!` of a function's subshell would
# leave its ssh running)
sshp() { ssh -F "$HOME/.ssh/rdev.config" -o BatchMode=yes "$@"; }
set +e
sshp rdev-ws true; s0=$?
sshp rdev-ws 'echo to-out; echo to-err >&2; exit 3' >"$TEST_TMP/o" 2>"$TEST_TMP/e"; s3=$?
sshp -v rdev-ws 'kill -TERM $$' 2>"$TEST_TMP/sig.err"; ssig=$?
sshp rdev-ws 'exit 143'; s143=$?
sshp dev1 true 2>"$TEST_TMP/nows.err"; s1=$?
set -e
check_eq "ssh: status 0 (no prompt: BatchMode)" "$s0" 0
check_eq "ssh: status 3" "$s3" 3
check_eq "ssh: stdout alone on stdout" "$(cat "$TEST_TMP/o")" to-out
check_eq "ssh: stderr alone on stderr" "$(cat "$TEST_TMP/e")" to-err
check_eq "ssh: killed by SIGTERM: 255, as through sshd (exit-signal, no status)" "$ssig" 255
check "ssh: ... the proxy sent exit-signal" grep -q 'rtype exit-signal' "$TEST_TMP/sig.err"
check_eq "ssh: exit 143 stays 143" "$s143" 143
check_eq "ssh: the alias from --host-alias works too" "$s1" 0
# Agent forwarding: a test ssh-agent with a key of its own; ssh-agent-list.pl
# is `ssh-add -l` (the image has no OpenSSH client).
ssh-keygen -q -t ed25519 -N '' -C rdev-fwd-test -f "$TEST_TMP/fwdkey"
ssh-agent -a "$TEST_TMP/agent.sock" >"$TEST_TMP/agent.env"
agent_pid=$(sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p' "$TEST_TMP/agent.env")
SSH_AUTH_SOCK=$TEST_TMP/agent.sock ssh-add -q "$TEST_TMP/fwdkey" 2>/dev/null
list=$RDEV_SOURCE_DIR/tests/e2e/ssh-agent-list.pl
check_eq "ssh -A: the container's SSH_AUTH_SOCK leads to the local agent (ssh-add -l)" \
	"$(SSH_AUTH_SOCK=$TEST_TMP/agent.sock sshp -A rdev-ws perl <"$list")" rdev-fwd-test
check_eq "ssh without -A: no SSH_AUTH_SOCK" \
	"$(SSH_AUTH_SOCK=$TEST_TMP/agent.sock sshp -a rdev-ws 'echo ${SSH_AUTH_SOCK-unset}')" unset
# The socket goes with the proxy (its exec hung up).
agent_sockets_gone() {
	test -z "$(docker exec "$(jq -r .containerId "$TEST_TMP/up.out")" sh -c 'ls -d /tmp/rdev-agent.* 2>/dev/null')"
}
eventually "ssh -A: the container's agent socket and its folder are removed after" agent_sockets_gone
check_eq "ssh: the user is remoteUser, in the workspace folder, with remoteEnv" \
	"$(sshp rdev-ws 'echo $(id -un) $(pwd) $RE')" "dev /workspaces/ws remote-env"
check_eq "ssh: a command's words reach the remote shell as ssh sends them" \
	"$(sshp rdev-ws printf '%s,' "'a b'" c)" "a b,c,"
check_eq "ssh: LANG sent by the client (SendEnv)" \
	"$(LANG=C.UTF-8 sshp -o SendEnv=LANG rdev-ws 'echo $LANG')" C.UTF-8
head -c 4000000 /dev/urandom >"$TEST_TMP/big"
start=$(date +%s%N)
sshp rdev-ws cat <"$TEST_TMP/big" >"$TEST_TMP/big.out"
echo "4 MB through cat: $((($(date +%s%N) - start) / 1000000)) ms"
check "ssh: 4 MB of binary stdin come back byte-exact" cmp "$TEST_TMP/big" "$TEST_TMP/big.out"
# The same through the proxy's stdin and stdout (a ProxyCommand without
# ProxyUseFdpass: the pump threads); and ssh-config's --fdpass on pipes (an
# SSH client that reads ~/.ssh/config but has no ProxyUseFdpass, as
# JetBrains' does) serves them so too.
sshp -o ProxyUseFdpass=no -o "ProxyCommand=$RDEV_BIN_DIR/rdev ssh-proxy '$name:~/ws'" \
	rdev-ws cat <"$TEST_TMP/big" >"$TEST_TMP/big.pipes"
check "ssh through stdin and stdout (no ProxyUseFdpass): 4 MB byte-exact" cmp "$TEST_TMP/big" "$TEST_TMP/big.pipes"
check_eq "--fdpass on pipes serves stdin and stdout" \
	"$(sshp -o ProxyUseFdpass=no rdev-ws echo pipes-ok </dev/null)" pipes-ok
# A direct-tcpip channel that cannot be made (a name the container cannot
# resolve, as a Compose service whose exec fails): the reason on the proxy's
# stderr, which ssh shows (it was in the proxy's log, or in the channel's
# extended data, which ssh drops), and the proxy exits 1, not 0 (HUP
# ignored, inherited: ssh hangs its ProxyCommand up as it exits).
cat >"$TEST_TMP/proxy-rc.sh" <<SH
#!/bin/sh
trap '' HUP
"$RDEV_BIN_DIR/rdev" ssh-proxy "$name:~/ws"
echo \$? >"$TEST_TMP/W.rc"
SH
chmod +x "$TEST_TMP/proxy-rc.sh"
sshp -o ProxyUseFdpass=no -o "ProxyCommand=$TEST_TMP/proxy-rc.sh" -W nosuch.invalid:5432 \
	rdev-ws </dev/null >/dev/null 2>"$TEST_TMP/Wn.err" || true
check "ssh -W to a name the container cannot resolve: the reason reaches ssh ($(tr '\n' ' ' <"$TEST_TMP/Wn.err"))" \
	grep -q '^rdev: ssh-proxy: port 5432: ' "$TEST_TMP/Wn.err"
proxy_ended() { test -s "$TEST_TMP/W.rc"; }
eventually "the proxy ends" proxy_ended
check_eq "and exits 1" "$(cat "$TEST_TMP/W.rc")" 1
# A client built on libssh reads the same block but ignores ProxyUseFdpass:
# it runs the ProxyCommand on one socket as stdin and stdout, as OpenSSH's
# ProxyUseFdpass does, and speaks SSH on it (its version at once); the
# proxy serves it there instead of passing it a socket it would drop.
set +e
out=$("$RDEV_BIN_DIR/tests/libssh-client" "$HOME/.ssh/rdev.config" rdev-ws "$kh" \
	rdev-ssh-proxy 'echo libssh-ok; exit 7' </dev/null); slibssh=$?
set -e
check_eq "--fdpass from a libssh client (ProxyUseFdpass ignored): served on its socket" \
	"$out/$slibssh" libssh-ok/7
# The same shape with OpenSSH's ssh speaking in-band behind a relay: its
# first bytes on the socket before the proxy starts (hold 0, --spoken: the
# proxy passes nothing), or held back until the proxy sent something (at
# most 20 s): they come after the proxy passed a socket (a newline carries
# it), which the client drops: the proxy then serves it in band too. (Bytes
# merely sent at once raced the proxy's start under load: 2 dry runs saw a
# socket passed.)
relay=$RDEV_SOURCE_DIR/tests/e2e/socketpair_proxy.py
for hold in 0 20; do
	mode="--hold $hold"
	[ "$hold" != 0 ] || mode=--spoken
	check_eq "--fdpass on one socket, the client's first bytes after $hold s: served in band" \
		"$(sshp -o ProxyUseFdpass=no -o "ProxyCommand=python3 $relay $mode \
			--report $TEST_TMP/pass.$hold -- $RDEV_BIN_DIR/rdev ssh-proxy '$name:~/ws' --fdpass" \
			rdev-ws echo inband-ok </dev/null)" inband-ok
done
check_eq "... one that spoke at once got no socket; one that had not got one and dropped it" \
	"$(cat "$TEST_TMP/pass.0") $(cat "$TEST_TMP/pass.20")" "none passed"
# A client that sends faster than the command reads, while the command's
# output waits for a reader that stopped (so the agent has no credit for it):
# the proxy leaves the bytes to SSH's window instead of holding them (it held
# 166 MB of 300 here), and the agent holds no more than the stdin window (it
# read what came, 36 MB in 3.5 s here, while the output waited for credit;
# it holds 6 MB now).
# (An ASan build's proxy keeps up to 256 MB of freed memory in quarantine by
# default, which is not what is measured: 8 MB of it here, ignored otherwise.)
# The proxy is found by a variable in its environment (from ssh's): its
# server is forked from the ProxyCommand and no child of ssh's, and its
# command line is the same as other runs' and other commands' proxies.
head -c 300000000 /dev/zero |
	RDEV_TEST_PROXY=$TEST_TMP/slow ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8 \
		sshp rdev-ws 'head -c 8000000 /dev/zero; wc -c >&2' 2>"$TEST_TMP/wc.out" |
	{ i=0; until [ -e "$TEST_TMP/measured" ] || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
	cat >/dev/null; } &
slow=$!
# (no fork per process: -ef and read are builtins; the reader starts once
# both are measured, or after 30 s)
rdev_exe=$(readlink -f "$RDEV_BIN_DIR/rdev")
proxy_measure() {
	local p k v
	proxy_pids= rss=
	for p in /proc/[0-9]*; do
		[ "$p/exe" -ef "$rdev_exe" ] 2>/dev/null || continue
		grep -qzxF "RDEV_TEST_PROXY=$TEST_TMP/slow" "$p/environ" 2>/dev/null || continue
		proxy_pids="$proxy_pids ${p#/proc/}"
		while read -r k v _; do
			[ "$k" != VmRSS: ] || rss=$v
		done <"$p/status" 2>/dev/null || true
	done
	[ -n "$proxy_pids" ]
}
# (the proxy's start, ssh's and the agent's, waited for; then 3.5 s for
# the stdin to pile up where it would: the measure, no wait for a state)
EVENTUALLY_SECONDS=25 eventually "the proxy of that ssh command runs" proxy_measure
sleep 3.5
proxy_measure || true
agent_rss=$(ps -e -o rss=,args= | awk -v h="/hosts/$name/" 'index($0, h) && /rdev-agent/ && $1 > m { m = $1 } END { print m + 0 }')
: >"$TEST_TMP/measured"
wait "$slow"
echo "proxy RSS with 300 MB of stdin waiting: $rss KiB; the largest agent process: $agent_rss KiB"
check_eq "the proxy of that ssh command found (one process)" "$(echo "$proxy_pids" | wc -w)" 1
check "the proxy holds little of a stdin the command does not read yet (RSS < 64 MiB)" \
	test "$rss" -lt 65536
check "... nor does the agent, the command's output waiting for credit (RSS < 16 MiB; 64 under ASan)" \
	test "$agent_rss" -gt 0 -a "$agent_rss" -lt "$(rss_bound 16384)"
check_eq "... and all of it reaches the command" "$(grep -x "[0-9]*" "$TEST_TMP/wc.out" | tail -n1)" 300000000
check_eq "ssh: no tty without -t" "$(sshp rdev-ws 'tty || true')" "not a tty"
start=$(date +%s%N)
sshp rdev-ws true
echo "ssh rdev-ws true (warm broker): $((($(date +%s%N) - start) / 1000000)) ms"

# A workspace without a container.
rdev ssh-config "$name:~/nows" --host-alias nows >"$TEST_TMP/nows.cfg"
set +e
ssh -F "$TEST_TMP/nows.cfg" -o BatchMode=yes nows true 2>"$TEST_TMP/nows.err"; s125=$?
set -e
check_eq "ssh: no container: 125" "$s125" 125
check "ssh: no container: says to run rdev up with the target" \
	grep -qF "rdev up $name:~/nows" "$TEST_TMP/nows.err"
# --id-label: nows (its workspaceFolder is ws's) finds ws's container by one of
# its labels.
rdev ssh-config "$name:~/nows" --host-alias byl \
	--id-label "devcontainer.local_folder=$(on_host 'echo $HOME')/ws" >"$TEST_TMP/byl.cfg"
check "ssh-config --id-label: passed on to the proxy" grep -q -- "--id-label devcontainer.local_folder=" "$TEST_TMP/byl.cfg"
check_eq "ssh through a proxy with --id-label: the container found by its labels" \
	"$(ssh -F "$TEST_TMP/byl.cfg" -o BatchMode=yes byl hostname)" "$(sshp rdev-ws hostname)"

# A changed key is refused.
sed 's/ssh-ed25519 .*/ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfRS5o4c1d8n8lnTOi5DnvnHQ0EO9XMxz26AO08SRZc/' \
	"$kh" >"$TEST_TMP/kh.bad"
set +e
ssh -F "$TEST_TMP/cfg" -o BatchMode=yes -o UserKnownHostsFile="$TEST_TMP/kh.bad" rdev-ws true \
	2>"$TEST_TMP/bad.err"; sbad=$?
set -e
check "ssh: a changed proxy key is refused" sh -c \
	"[ $sbad = 255 ] && grep -q 'Host key verification failed' '$TEST_TMP/bad.err'"

# --- a shell through a real terminal ---------------------------------------------
check "ssh -tt: typed commands, TERM, size, resize and exit status through a pty" \
	python3 "$drive" --rows 24 --cols 80 --term xterm-256color --timeout 20 \
	--steps "$RDEV_SOURCE_DIR/tests/e2e/shell-pty.steps" -- ssh -tt -F "$HOME/.ssh/rdev.config" rdev-ws
# The pty's modes are the kernel's defaults (docs/SSH-PROXY.md: libssh does not
# give the pty-req's modes), which are those of a usual terminal.
sshp -tt rdev-ws 'stty -a' </dev/null 2>/dev/null | tr -d '\r' | tr ' ' '\n' >"$TEST_TMP/stty"
check "ssh -tt: stty -a shows a canonical, echoing pty with ^C as intr" sh -c \
	"for m in icanon echo isig ^C\;; do grep -qxF \"\$m\" '$TEST_TMP/stty' || exit 1; done"

# --- direct-tcpip (ssh -L) ---------------------------------------------------------
# busybox httpd on the container's 127.0.0.1 only, and the rig's echo server.
cid=$(jq -r .containerId "$TEST_TMP/up.out")
docker cp /bin/busybox "$cid:/bin/busybox"
docker exec "$cid" sh -c "mkdir -p /www && head -c 5000000 /dev/urandom > /www/blob &&
	busybox httpd -p 127.0.0.1:8301 -h /www && busybox httpd -p 0.0.0.0:8303 -h /www"
docker exec -i "$cid" sh -c 'cat > /tmp/echo-server.pl' <"$RDEV_SOURCE_DIR/tests/rig/echo-server.pl"
docker exec -d "$cid" perl /tmp/echo-server.pl 8302 127.0.0.1
base=$(rig_ports 4)
ssh -F "$HOME/.ssh/rdev.config" -o BatchMode=yes -N -o ExitOnForwardFailure=yes -L "$base:localhost:8301" -L "$((base + 1)):127.0.0.1:8302" \
	-L "$((base + 2)):localhost:8399" -L "$((base + 3)):localhost:8303" rdev-ws 2>"$TEST_TMP/L.err" &
fwd=$!
eventually "ssh -L listens" bash -c "exec 3<>/dev/tcp/127.0.0.1/$base"
want=$(docker exec "$cid" sha256sum /www/blob | cut -d' ' -f1)
start=$(date +%s%N)
got=$(curl -sf "http://127.0.0.1:$base/blob" | sha256sum | cut -d' ' -f1)
echo "5 MB over ssh -L through the proxy: $((($(date +%s%N) - start) / 1000000)) ms"
check_eq "ssh -L: a server bound to the container's 127.0.0.1 answers, byte-exact" "$got" "$want"
check_eq "ssh -L: half-close (the reply after the client shut its write side)" \
	"$(python3 "$RDEV_SOURCE_DIR/tests/e2e/forward_client.py" halfclose "$base" /blob)" "$want"
check_eq "ssh -L: 20 connections at once to the echo server" \
	"$(python3 "$RDEV_SOURCE_DIR/tests/e2e/forward_client.py" many "$((base + 1))" 20)" 20
check_eq "ssh -L: a port nothing listens on ends the connection" \
	"$(python3 "$RDEV_SOURCE_DIR/tests/e2e/forward_client.py" closed "$((base + 2))")" closed
check_eq "ssh -L: a server on the container's 0.0.0.0 answers, byte-exact" \
	"$(curl -sf "http://127.0.0.1:$((base + 3))/blob" | sha256sum | cut -d' ' -f1)" "$want"
# The broker carries them ("connect", as rdev forward routes a connection):
# straight to the container's address for the 0.0.0.0 server, through the
# relay for the 127.0.0.1 one; its counts say which way each went.
route() { broker status --json | jq -r --argjson p "$1" \
	'[.sessions[].connects[]? | select(.port == $p) | "\(.direct)/\(.relayed)"] | first // "none"'; }
# (read while a connection is open: a connect's entry goes 4 s after its last one)
exec 5<>"/dev/tcp/127.0.0.1/$((base + 3))" 6<>"/dev/tcp/127.0.0.1/$base"
routes() { case "$(route 8303) $(route 8301)" in [1-9]*/0\ 0/[1-9]*) ;; *) return 1 ;; esac; }
eventually "ssh -L to a 0.0.0.0 server goes straight to the container, to a 127.0.0.1 one through the relay (direct/relayed)" routes
conns() { broker status --json | jq --argjson p "$1" \
	'[.sessions[].connects[]? | select(.port == $p) | .connections] | first // 0'; }
n=$(conns 8301)
exec 5>&- 6>&-
sleep 1 # (the links are gone)
exec 6<>"/dev/tcp/127.0.0.1/$base"
more() { [ "$(conns 8301)" -gt "$n" ]; }
eventually "a serial client's next connection finds the connect's entry kept" more
exec 6>&-
connects() { broker status --json | jq '[.sessions[].connects[]?] | length'; }
no_connects() { [ "$(connects)" = 0 ]; }
# (kept RDEV_HOST_CONNECT_IDLE_MS, 4 s here, for the next channel of a
# serial client; meanwhile the local target's up, below, which makes no
# connect: 3.4 s here, more under ASan)
rdev up "$lws" >"$TEST_TMP/lup.json" 2>"$TEST_TMP/lup.err" &
lup=$!
EVENTUALLY_SECONDS=40 eventually "a connect's entry is freed after its last connection" no_connects
# A relay that closes without its status byte (a stand-in that lists
# nothing and ends each connect at once, put in the agent's relay record):
# the client is told why, not left with a closed channel. (The next connect
# finds it gone and the agent starts a relay again.)
docker exec -d "$cid" perl -e '
	use IO::Socket::INET;
	my $l = IO::Socket::INET->new(LocalAddr => "0.0.0.0", Listen => 5) or die;
	open my $f, ">", "/tmp/stand-in.port.tmp"; print $f $l->sockport; close $f;
	rename "/tmp/stand-in.port.tmp", "/tmp/stand-in.port";
	while (my $c = $l->accept) {
		my $h = ""; $c->read($h, 41); my $cmd = substr($h, 40);
		$c->read($h, 2) if $cmd eq "C"; close $c; exit 0 if $cmd eq "C" }'
eventually "the stand-in relay listens" docker exec "$cid" test -s /tmp/stand-in.port
sp=$(docker exec "$cid" cat /tmp/stand-in.port)
on_host "sed -i 's/\"port\": *[0-9]*/\"port\":$sp/' ~/.rdev/state/relay/$cid.json"
sshp -W localhost:8301 rdev-ws </dev/null >/dev/null 2>"$TEST_TMP/W.err" || true
check "a relay that closes without its status byte: the reason reaches ssh" \
	grep -q 'port 8301: cannot reach that port of the container' "$TEST_TMP/W.err"
# One channel whose reader stops (40 MB asked, 64 KiB read) stalls only that
# channel: each exec's output is paced by its own credit, so the proxy does
# not stop reading the agent connection the others share.
docker exec "$cid" sh -c 'head -c 40000000 /dev/zero > /www/big'
python3 "$RDEV_SOURCE_DIR/tests/e2e/forward_client.py" stall "$base" /big 20 &
stall=$!
sleep 2
got=$(curl -sf --max-time 15 "http://127.0.0.1:$base/blob" | sha256sum | cut -d" " -f1) || true
check_eq "ssh -L: a channel whose reader stopped stalls no other (5 MB beside it, byte-exact)" \
	"$got" "$want"
kill "$stall" 2>/dev/null || true
wait "$stall" 2>/dev/null || true
kill "$fwd"
wait "$fwd" 2>/dev/null || true
# How VS Code Remote-SSH connects: `ssh -T -D PORT HOST bash` with its script
# on stdin, then its server reached through the SOCKS port at 127.0.0.1.
ssh -F "$HOME/.ssh/rdev.config" -o BatchMode=yes -T -D "$base" rdev-ws bash <<<'echo "shell=$0 user=$(id -un)"; sleep 8' >"$TEST_TMP/vsc.out" 2>&1 &
fwd=$!
eventually "ssh -D listens" bash -c "exec 3<>/dev/tcp/127.0.0.1/$base"
curl -sS --socks5-hostname "127.0.0.1:$base" -o "$TEST_TMP/socks.blob" \
	http://127.0.0.1:8301/blob 2>"$TEST_TMP/socks.err" || true
check_eq "ssh -D (SOCKS, as VS Code uses it) to the container's 127.0.0.1" \
	"$(sha256sum <"$TEST_TMP/socks.blob" | cut -d' ' -f1)" "$want"
# (its output may come after the SOCKS answer: waited for, before ssh is killed)
eventually "ssh -T HOST bash runs the script from stdin as the remote user" \
	grep -q 'shell=bash user=dev' "$TEST_TMP/vsc.out"
kill "$fwd"
wait "$fwd" 2>/dev/null || true

# --- the sftp subsystem (scp, sftp) -------------------------------------------------
set +e
scp -F "$HOME/.ssh/rdev.config" -o BatchMode=yes "$TEST_TMP/big" rdev-ws:/tmp/big 2>"$TEST_TMP/scp0.err"; sc0=$?
set -e
check "scp without an sftp-server in the container fails naming the package" \
	sh -c "[ $sc0 != 0 ] && grep -q 'no sftp-server: install it (Debian, Ubuntu, Alpine: openssh-sftp-server' '$TEST_TMP/scp0.err'"
# (Debian's sftp-server needs only glibc: this machine's runs in the bookworm image)
docker exec "$cid" mkdir -p /usr/lib/openssh
docker cp /usr/lib/openssh/sftp-server "$cid:/usr/lib/openssh/sftp-server"
scp -F "$HOME/.ssh/rdev.config" -o BatchMode=yes "$TEST_TMP/big" rdev-ws:/tmp/big
scp -F "$HOME/.ssh/rdev.config" -o BatchMode=yes rdev-ws:/tmp/big "$TEST_TMP/big.back"
check "scp: 4 MB up and back, byte-exact" cmp "$TEST_TMP/big" "$TEST_TMP/big.back"
check_eq "scp: the file is the remote user's" "$(docker exec "$cid" stat -c %U /tmp/big)" dev
check "sftp: starts in the workspace folder" sh -c \
	"echo pwd | sftp -F '$HOME/.ssh/rdev.config' -b - rdev-ws | grep -qx 'Remote working directory: /workspaces/ws'"

# --- a local target: a Compose workspace ------------------------------------------
wait "$lup" || { cat "$TEST_TMP/lup.err" >&2; fail "rdev up $lws"; }
lup=
lcid=$(jq -r .containerId "$TEST_TMP/lup.json")
project=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}}' "$lcid")
rdev ssh-config "$lws" --host-alias lws >"$TEST_TMP/lcfg"
check "ssh-config: a local target's absolute folder" grep -qF "ssh-proxy $lws" "$TEST_TMP/lcfg"
set +e
out=$(ssh -F "$TEST_TMP/lcfg" -o BatchMode=yes lws 'echo $(id -un) $(pwd) $(hostname); exit 5'); sl=$?
set -e
check_eq "ssh to a local target: status" "$sl" 5
check_eq "ssh to a local Compose target: remoteUser, folder, the app service's container" \
	"$out" "dev /workspace $(docker inspect -f '{{.Config.Hostname}}' "$lcid")"
docker cp /bin/busybox "$lcid:/bin/busybox"
docker exec "$lcid" sh -c "mkdir -p /www && echo from-app > /www/x && busybox httpd -p 127.0.0.1:8301 -h /www"
ssh -F "$TEST_TMP/lcfg" -o BatchMode=yes -N -o ExitOnForwardFailure=yes -L "$base:localhost:8301" \
	-L "$((base + 1)):db:8080" -L "$((base + 2)):no-such-host.invalid:80" lws 2>"$TEST_TMP/lL.err" &
fwd=$!
eventually "ssh -L listens" bash -c "exec 3<>/dev/tcp/127.0.0.1/$base"
check_eq "ssh -L (Compose): the app container's 127.0.0.1" "$(curl -sf "http://127.0.0.1:$base/x")" from-app
check_eq "ssh -L (Compose): another service by its name (db:8080), as the container resolves it" \
	"$(curl -sf "http://127.0.0.1:$((base + 1))/x")" from-db
check_eq "ssh -L: a name the container does not resolve ends the connection" \
	"$(python3 "$RDEV_SOURCE_DIR/tests/e2e/forward_client.py" closed "$((base + 2))")" closed
kill "$fwd"
wait "$fwd" 2>/dev/null || true

# --- a recreated container -----------------------------------------------------------
# A forward's target is checked (forward_target_fresh: the container's id and
# address, past 1 s), so `rdev forward` and ssh -L reach the new container,
# not what has the old one's address now: the old one is stopped first, a
# decoy serving "decoy" on 8303 takes its address, and the new one gets
# another.
start=$(date +%s)
fp=$(rig_ports 2)
docker exec "$cid" sh -c 'echo old > /www/x'
rdev forward "$name:~/ws" "$fp:8303" "$((fp + 1)):8301" >/dev/null
check_eq "rdev forward: the container (direct, relay)" \
	"$(curl -sf --max-time 10 "http://127.0.0.1:$fp/x") $(curl -sf --max-time 10 "http://127.0.0.1:$((fp + 1))/x")" "old old"
ip_of() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1"; }
oldip=$(ip_of "$cid")
oldip=${oldip% }
docker stop -t 1 "$cid" >/dev/null
decoy=$(docker run -d --rm --network "$net" --ip "$oldip" -v /bin/busybox:/bin/busybox:ro \
	"$RDEV_RIG_IMAGE_BOOKWORM_DEV" /bin/busybox sh -c \
	'mkdir -p /www && echo decoy > /www/x && exec /bin/busybox httpd -f -p 8303 -h /www')
rdev up "$name:~/ws" --recreate >"$TEST_TMP/up2.out" 2>"$TEST_TMP/up2.err" ||
	{ cat "$TEST_TMP/up2.err" >&2; fail "rdev up --recreate"; }
ncid=$(jq -r .containerId "$TEST_TMP/up2.out")
check "up --recreate: a new container" test "$ncid" != "$cid"
check "the new container has another address" test "$(ip_of "$ncid")" != "$oldip "
docker cp /bin/busybox "$ncid:/bin/busybox"
docker exec "$ncid" sh -c "mkdir -p /www && echo new > /www/x &&
	busybox httpd -p 127.0.0.1:8301 -h /www && busybox httpd -p 0.0.0.0:8303 -h /www"
check_eq "rdev forward after up --recreate: the new container (direct, relay)" \
	"$(curl -sf --max-time 10 "http://127.0.0.1:$fp/x") $(curl -sf --max-time 10 "http://127.0.0.1:$((fp + 1))/x")" "new new"
ssh -F "$HOME/.ssh/rdev.config" -o BatchMode=yes -N -o ExitOnForwardFailure=yes -L "$base:localhost:8301" \
	-L "$((base + 1)):localhost:8303" rdev-ws 2>"$TEST_TMP/L2.err" &
fwd=$!
eventually "ssh -L listens" bash -c "exec 3<>/dev/tcp/127.0.0.1/$base"
check_eq "ssh -L after up --recreate: the new container (relay, direct)" \
	"$(curl -sf --max-time 10 "http://127.0.0.1:$base/x") $(curl -sf --max-time 10 "http://127.0.0.1:$((base + 1))/x")" "new new"
echo "recreate step: $(($(date +%s) - start)) s"
finish
