#!/usr/bin/env bash
# Qt's platform plugins need system libraries that pip cannot install. Without them PySide6
# aborts at start with "Could not load the Qt platform plugin". Install what is missing when
# we can (root with apt-get), otherwise print the exact command and carry on.
#   --offscreen : only what the offscreen platform (tests, CI) needs, plus tesseract-ocr:
#                 the OCR tests run the real Tesseract (Hearth itself only offers OCR
#                 where it is installed)
set -u
offscreen_pkgs=(libegl1 libgl1 libfontconfig1 libxkbcommon0 libglib2.0-0 libdbus-1-3)
xcb_pkgs=(libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libxcb-image0
          libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xkb1 libx11-xcb1)
test_pkgs=(tesseract-ocr)
pkgs=("${offscreen_pkgs[@]}")
if [ "${1:-}" = "--offscreen" ]; then pkgs+=("${test_pkgs[@]}"); else pkgs+=("${xcb_pkgs[@]}"); fi

command -v dpkg-query >/dev/null 2>&1 || exit 0   # not Debian/Ubuntu: nothing we can check
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null \
    || echo "Could not install them; run: sudo apt-get install ${missing[*]}"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Hearth needs these system packages: sudo apt-get install ${missing[*]}"
fi
exit 0
