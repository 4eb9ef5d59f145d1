# bash completion for rdev, rdev-broker and rdev-agent. The candidates come
# from the program itself (`PROG help --complete CWORD WORD...`: commands,
# each command's options as its --help names them, recent targets and
# ssh_config host aliases), so this file never lists them.
_rdev_complete() {
	local cur words cword line w cmd=
	COMPREPLY=()
	if declare -F _get_comp_words_by_ref >/dev/null; then
		# ("host:path" is one word, whatever COMP_WORDBREAKS says)
		_get_comp_words_by_ref -n : cur words cword
	else
		words=("${COMP_WORDS[@]}") cword=$COMP_CWORD cur=${COMP_WORDS[COMP_CWORD]}
	fi
	while IFS= read -r line; do
		[ -n "$line" ] && COMPREPLY+=("$line")
	done < <(command "${words[0]}" help --complete "$cword" "${words[@]}" 2>/dev/null)
	# A TARGET may be a local folder too (hosts takes none).
	for w in "${words[@]:1:cword-1}"; do
		[[ $w == -* ]] || { cmd=$w; break; }
	done
	if [[ ${words[0]##*/} == rdev && $cword -ge 2 && $cur != -* && $cur != *:* &&
		$cur != @* && $cmd != hosts ]]; then
		while IFS= read -r line; do
			COMPREPLY+=("$line/")
		done < <(compgen -d -- "$cur")
	fi
	# "host:" and "dir/" are not finished words.
	if [[ ${#COMPREPLY[@]} -gt 0 ]] && compopt >/dev/null 2>&1; then
		for line in "${COMPREPLY[@]}"; do
			[[ $line == *[:/] ]] && compopt -o nospace && break
		done
	fi
	if declare -F __ltrim_colon_completions >/dev/null; then
		__ltrim_colon_completions "$cur"
	fi
	return 0
}
complete -F _rdev_complete rdev rdev-broker rdev-agent
