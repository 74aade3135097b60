#!/usr/bin/env bash
# Make headless Chromium and its WebDriver available for the HTML report's browser tests and
# benchmark: Debian's `chromium` and `chromium-driver`, installed with apt-get when missing and
# we are root (as in CI). Quiet on success; when it cannot install, it says why and returns 1
# (the browser tests then skip, naming the reason).
set -uo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "chromium / chromedriver not installed and not root: install Debian's chromium and" \
    "chromium-driver (sudo apt-get install chromium chromium-driver) to run the browser tests"
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium / chromedriver not installed and no apt-get here: install Chromium and" \
    "chromedriver on PATH to run the browser tests"
  exit 1
fi
log="$(mktemp)"
if { apt-get -o DPkg::Lock::Timeout=300 update -qq &&
     DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
       --no-install-recommends chromium chromium-driver; } >"$log" 2>&1; then
  echo "installed chromium and chromium-driver"
  rm -f "$log"
  exit 0
fi
echo "could not install chromium and chromium-driver with apt-get (the browser tests will" \
  "be skipped):"
tail -n 5 "$log"
rm -f "$log"
exit 1
