#!/usr/bin/env bash
# Install the Debian packages the tests and the demo use (PostgreSQL server, Chromium) when
# they are missing and we may install them (root with apt-get). Otherwise say what is missing:
# without a system PostgreSQL snapscope falls back to the pip-installed embedded server.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql postgresql-contrib)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "note: not installing ${need[*]} (needs root and apt-get); browser tests need chromium" >&2
fi
