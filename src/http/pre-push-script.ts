/**
 * The git `pre-push` hook `GET /hooks/pre-push` serves (behaviour.md §8, push
 * warnings). POSIX sh (it runs under dash), `git` and `curl` only: the server
 * does the matching and the wording, and answers plain text, so the script
 * parses nothing. It never blocks a push: every path ends in `exit 0`.
 */

/** `value` as one single-quoted sh word. */
export function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function prePushScript(publicUrl: string): string {
  return `#!/bin/sh
# Conductor pre-push hook, served by ${publicUrl.replace(/[\r\n]/g, '')}/hooks/pre-push
#
# Before a push to a branch Conductor watches, prints what Conductor says about
# the line: manual or emergency mode (with the reason and who set it), a freeze
# today, outside auto-time. It never blocks a push: it always exits 0.
#
# Settings (git config, all optional):
#   conductor.url    Conductor's address (default: the one it was served from)
#   conductor.line   the line, instead of finding it from the remote URL and branch
#   conductor.token  the API bearer token, when Conductor has CONDUCTOR_API_TOKEN set

conductor_url=$(git config conductor.url 2>/dev/null) || conductor_url=
[ -n "$conductor_url" ] || conductor_url=${shQuote(publicUrl)}
conductor_url=\${conductor_url%/}
conductor_line=$(git config conductor.line 2>/dev/null) || conductor_line=
conductor_token=$(git config conductor.token 2>/dev/null) || conductor_token=

# $1 is the remote's name, $2 its URL (the URL itself when pushing to a URL).
remote_url=$2
[ -n "$remote_url" ] || remote_url=$1
# A local repository: Conductor names it by its absolute path.
if [ -d "$remote_url" ]; then
  remote_url=$(cd "$remote_url" 2>/dev/null && pwd) || remote_url=$2
fi

command -v curl >/dev/null 2>&1 || exit 0

# Asks about one branch; prints Conductor's answer (empty: nothing to say).
conductor_ask() {
  if [ -n "$conductor_token" ]; then
    # The token goes through stdin, not the command line (other users can read that).
    printf 'Authorization: Bearer %s\\n' "$conductor_token" |
      curl -fsS --max-time 3 -G -H @- \\
        --data-urlencode "remote=$remote_url" --data-urlencode "branch=$1" --data-urlencode "line=$conductor_line" \\
        "$conductor_url/api/push-warning" 2>/dev/null
  else
    curl -fsS --max-time 3 -G \\
      --data-urlencode "remote=$remote_url" --data-urlencode "branch=$1" --data-urlencode "line=$conductor_line" \\
      "$conductor_url/api/push-warning" </dev/null 2>/dev/null
  fi
}

asked=' '
# stdin: <local ref> <local sha> <remote ref> <remote sha>, one line per ref pushed.
while read -r local_ref local_sha remote_ref remote_sha; do
  case $remote_ref in refs/heads/*) ;; *) continue ;; esac
  # A deletion (all zeros) adds nothing to the line.
  case $local_sha in *[!0]*) ;; *) continue ;; esac
  branch=\${remote_ref#refs/heads/}
  case $asked in *" $branch "*) continue ;; esac
  asked="$asked$branch "
  answer=$(conductor_ask "$branch")
  status=$?
  if [ "$status" -eq 22 ]; then
    printf 'conductor: %s refused the push check (is git config conductor.token set?); the push goes ahead.\\n' "$conductor_url" >&2
    break
  elif [ "$status" -ne 0 ]; then
    printf 'conductor: could not reach %s; the push goes ahead.\\n' "$conductor_url" >&2
    break
  fi
  if [ -n "$answer" ]; then
    printf '%s\\n' "$answer" | sed 's/^/conductor: /' >&2
  fi
done
exit 0
`;
}
