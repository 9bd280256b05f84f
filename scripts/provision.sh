#!/usr/bin/env bash
# Installs the system tools the test suite needs, where they are missing: Debian's Chromium for
# the browser tests. Run by `npm test`; needs root and apt-get on a machine that lacks them.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
  echo "provision: missing ${need[*]}; install them (Debian: apt-get install ${need[*]}) or run as root" >&2
  exit 1
fi
echo "provision: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "provision: could not install ${need[*]}" >&2
  exit 1
fi
rm -f "$log"
