#!/usr/bin/env bash
# Install the Debian 12 packages SIPADU needs, only when something is missing.
#   runtime: python3-venv, Pango (WeasyPrint), fonts
#   tests:   chromium (Playwright journeys), poppler-utils (pdfsig, pdftoppm), gettext
set -euo pipefail
want=(python3-venv python3-dev libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
if [ "${1:-}" = "--test" ]; then
  want+=(chromium poppler-utils gettext)
fi
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing system packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
