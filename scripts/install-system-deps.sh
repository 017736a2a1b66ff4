#!/usr/bin/env bash
# Install the Debian packages the test suite needs, when they are missing:
#   chromium    the browser the Playwright tests drive (/usr/bin/chromium; never `playwright install`)
#   bubblewrap  the sandbox that student code runs in during autograding (/usr/bin/bwrap)
#   postgresql  the server the multi-grader gradebook test starts on 127.0.0.1
#   nodejs, npm build the VS Code widget-manager test harness (tests/vscode_widgets, npm ci)
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "system-deps: these Debian packages are missing: ${missing[*]}" >&2
  echo "  The tests need them. Install them as root, then run make test again:" >&2
  echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: apt-get not found; install ${missing[*]} with your system's package manager." >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: installed ${missing[*]}"
