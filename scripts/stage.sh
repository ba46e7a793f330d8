#!/usr/bin/env bash
# Run one stage of `make test` (a shell command line) and say how long it took, also when it failed:
#   stage test-integration: 812 s (ok)
# With STAGE_LOG set, the line is appended there as well (`make test` prints them all at the end).
set -uo pipefail
name=$1
command=$2
start=$(date +%s)
bash -c "$command"
rc=$?
line="stage $name: $(( $(date +%s) - start )) s ($([ "$rc" -eq 0 ] && echo ok || echo "FAILED, exit $rc"))"
echo "$line"
if [ -n "${STAGE_LOG:-}" ]; then
  echo "$line" >> "$STAGE_LOG"
fi
exit "$rc"
