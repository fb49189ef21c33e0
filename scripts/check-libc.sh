#!/usr/bin/env bash
# modernc.org/sqlite is generated against one exact modernc.org/libc; any
# other version can corrupt memory at run time. Fail when they differ.
set -euo pipefail
sqlite=$(go list -m -f '{{.Version}}' modernc.org/sqlite)
want=$(go mod graph | awk -v s="modernc.org/sqlite@$sqlite" '$1 == s && $2 ~ /^modernc\.org\/libc@/ { sub(/.*@/, "", $2); print $2 }')
have=$(go list -m -f '{{.Version}}' modernc.org/libc)
if [ -z "$want" ]; then
  echo "check-libc: cannot find the libc that modernc.org/sqlite@$sqlite requires" >&2
  exit 1
fi
if [ "$want" != "$have" ]; then
  echo "check-libc: modernc.org/sqlite@$sqlite requires modernc.org/libc@$want, but go.mod selects $have; run: go get modernc.org/libc@$want" >&2
  exit 1
fi
echo "check-libc: modernc.org/libc $have matches modernc.org/sqlite $sqlite"
