#!/bin/bash
# The layers of src/, bottom up: base/ (vocabulary: Endpoint, Result, Cidr,
# LogLevel, ascii), then the pure socks5/, socks4/, http/, config/ and dns/, then core/, shim/
# and tool/. A lower layer never includes from a higher one:
#   - socks5/, socks4/, http/, dns/, config/ and base/ include nothing from core/, shim/ or tool/;
#   - base/ includes nothing of ours but base/.
# Prints every offending line and fails if there is one.
#   layering_test.sh SRC_DIR
set -euo pipefail
src="${1:?usage: layering_test.sh SRC_DIR}"
cd "$src"
for d in base socks5 socks4 http dns config; do
  [ -d "$d" ] || { echo "FAIL: no $src/$d" >&2; exit 1; }
done

# Our headers are included as "dir/file.hpp" (or <dir/...>, caught too).
ours='(base|socks5|socks4|http|config|dns|core|shim|tool|socksify)/'
bad=$(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<](core|shim|tool)/" \
        socks5 socks4 http dns config base || true)
bad+=$'\n'$(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<]${ours}" base |
              grep -vE "#[[:space:]]*include[[:space:]]*[\"<]base/" || true)
# Anything else quoted inside base/ (a relative "../x.hpp", a bare "x.hpp") is ours too.
bad+=$'\n'$(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"" base |
              grep -vE "#[[:space:]]*include[[:space:]]*\"base/" || true)
bad=$(printf '%s\n' "$bad" | sed '/^$/d' | sort -u)
if [ -n "$bad" ]; then
  echo "FAIL: includes against the layering (see tests/layering_test.sh):" >&2
  printf '%s\n' "$bad" >&2
  exit 1
fi
echo "ok: socks5/ socks4/ http/ dns/ config/ base/ include nothing from core/ shim/ tool/; base/ only base/"
