#!/usr/bin/env bash
# Installs what the test suite needs and the machine lacks: Debian's chromium (browser tests),
# redis-server and redis-tools (redis-cli joins the test Redis Cluster; Debian's redis-server
# depends on redis-tools, but either can be installed alone), and FerretDB (a MongoDB wire-protocol server) built from the Go module proxy into
# .tools/bin. Run by `npm test`; installing Debian packages needs root and apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)

if [ ${#need[@]} -gt 0 ]; then
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
fi

# Sharded pub/sub (SSUBSCRIBE/SPUBLISH), which the bus uses, arrived in Redis 7.0.
redis_major=$(redis-server --version | sed -n 's/.* v=\([0-9]*\)\..*/\1/p')
if [ "${redis_major:-0}" -lt 7 ]; then
  echo "provision: redis-server $(redis-server --version | cut -d' ' -f3) is too old; ChatHub needs Redis 7.0 or newer" >&2
  exit 1
fi

if [ -z "${MONGO_URL:-}" ] && [ ! -x .tools/bin/ferretdb ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "provision: FerretDB needs Go to build (or set MONGO_URL to a MongoDB server)" >&2
    exit 1
  fi
  echo "provision: building FerretDB into .tools/bin" >&2
  (cd tools/ferretdb && go build -o ../../.tools/bin/ferretdb .)
fi
