#!/usr/bin/env bash
# check-unit.sh BINARY [UNIT]: verify the systemd unit and rate its sandbox.
#
# systemd-analyze verify needs ExecStart's binary to exist, so the unit is
# copied to a temporary directory with ExecStart pointing at BINARY (an
# absolute path to a built postdesk). Fails when verify complains or when
# `systemd-analyze security --offline=true` rates the exposure above
# MAX_EXPOSURE (default 2.0).
set -euo pipefail

bin=${1:?usage: check-unit.sh BINARY [UNIT]}
unit=${2:-$(dirname "$0")/postdesk.service}
max=${MAX_EXPOSURE:-2.0}

case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
[[ -x $bin ]] || { echo "check-unit: $bin is not an executable (run make build)" >&2; exit 1; }
command -v systemd-analyze >/dev/null || { echo "check-unit: systemd-analyze not installed" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|^ExecStart=/usr/bin/postdesk |ExecStart=$bin |" "$unit" >"$tmp/postdesk.service"
grep -q "^ExecStart=$bin " "$tmp/postdesk.service" || { echo "check-unit: no ExecStart=/usr/bin/postdesk line in $unit" >&2; exit 1; }

# verify prints problems but exits 0 for some of them: any output fails.
out=$(systemd-analyze verify "$tmp/postdesk.service" 2>&1) || { echo "$out" >&2; exit 1; }
if [[ -n $out ]]; then
	echo "check-unit: systemd-analyze verify:" >&2
	echo "$out" >&2
	exit 1
fi
echo "systemd-analyze verify: ok"

sec=$(systemd-analyze security --offline=true "$tmp/postdesk.service" 2>&1) || { echo "$sec" >&2; exit 1; }
line=$(grep 'Overall exposure level' <<<"$sec") || { echo "$sec" >&2; echo "check-unit: no exposure level in the output" >&2; exit 1; }
score=$(sed -E 's/.*: *([0-9]+(\.[0-9]+)?).*/\1/' <<<"$line")
echo "systemd-analyze security: exposure $score (limit $max)"
if ! awk -v s="$score" -v m="$max" 'BEGIN { exit !(s + 0 <= m + 0) }'; then
	grep '✗' <<<"$sec" >&2 || true
	echo "check-unit: exposure $score is above $max" >&2
	exit 1
fi
