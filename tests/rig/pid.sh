# pid.sh - pid_alive, sourced by rig.sh and lib.sh (one definition).
#
# pid_alive PID: the process runs. A zombie does not: it has ended and holds
# no port, file or socket, but the daemons the rig starts (sshd, the delay
# proxies, the broker, an agent) are reparented to init, and this machine's
# init reaps them 1-2 s late, which a wait on kill -0 alone waited for too.
# Each thread counts: a killed process's first thread is a zombie while the
# others still end (and hold its files: the broker's listening ports under
# ASan).
pid_alive() {
	local t st
	# (another user's process: kill -0 fails with EPERM, /proc shows it)
	kill -0 "$1" 2>/dev/null || [ -d "/proc/$1" ] || return 1
	for t in "/proc/$1/task/"*/stat; do
		read -r st 2>/dev/null <"$t" || continue
		st=${st##*) }
		case ${st%% *} in Z | X) ;; *) return 0 ;; esac
	done
	return 1
}
