#!/usr/bin/env bash
# Debian packages the project needs beyond Python: Chromium (browser tests) and Pango (PDF
# reports through WeasyPrint). Installed with apt-get when running as root; otherwise we say
# what is missing and the tests that need it are skipped with that reason.
set -u
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
if ! ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so'; then need+=(libpango-1.0-0 libpangoft2-1.0-0); fi
ldconfig -p 2>/dev/null | grep -q 'libfontconfig' || need+=(fontconfig)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! (apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null); then
    echo "WARNING: could not install ${need[*]}; browser tests and PDF reports may be skipped."
  fi
else
  echo "WARNING: missing Debian packages: ${need[*]}."
  echo "         Not root, so not installing them: browser tests will be SKIPPED and PDF reports"
  echo "         may fail. Install them with: sudo apt-get install ${need[*]}"
fi
exit 0
