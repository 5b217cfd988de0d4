#!/bin/sh
# Hearth's menu entry and icon for this user, from an unpacked bundle (issue 15).
#   ./install.sh               the entry runs the hearth executable next to this script
#   ./install.sh --uninstall   removes them again
# Run it again after moving the folder: the entry names the executable by its full path.
# packaging/archive.py puts this script at the top of the .tar.gz's folder, the files it
# copies under share/ beside it. `make install-desktop` runs it too, for a checkout, naming
# the executable and the files in HEARTH_EXE, HEARTH_DESKTOP_FILE and HEARTH_ICON_FILE, so
# both write Exec the same way (quoted: a path with spaces must still launch).
set -eu

APP_ID=io.github.hearth.Hearth
HERE=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd -P)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
APPS=$DATA/applications
ICONS=$DATA/icons/hicolor/scalable/apps

refresh() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database "$APPS" >/dev/null 2>&1 || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache --quiet --ignore-theme-index "$DATA/icons/hicolor" >/dev/null 2>&1 || true
    fi
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$APPS/$APP_ID.desktop" "$ICONS/$APP_ID.svg"
    refresh
    echo "Hearth's menu entry is removed."
    exit 0
fi

EXE=${HEARTH_EXE:-$HERE/hearth}
ENTRY_SOURCE=${HEARTH_DESKTOP_FILE:-$HERE/share/applications/$APP_ID.desktop}
ICON_SOURCE=${HEARTH_ICON_FILE:-$HERE/share/icons/hicolor/scalable/apps/$APP_ID.svg}
if [ ! -x "$EXE" ]; then
    if [ -n "${HEARTH_EXE:-}" ]; then
        echo "No executable at $EXE (for a checkout: run make setup first)." >&2
    else
        echo "No executable at $EXE: run this script from the unpacked Hearth folder." >&2
    fi
    exit 1
fi

# Exec takes a quoted argument: inside the quotes \ " ` $ are escaped with a backslash, and
# the .desktop file's own escaping then doubles every backslash (Desktop Entry spec, "The
# Exec key"). TryExec is a plain string: only its backslashes are doubled.
quoted=$(printf '%s' "$EXE" | sed -e 's/[\\"`$]/\\&/g' -e 's/\\/\\\\/g')
plain=$(printf '%s' "$EXE" | sed -e 's/\\/\\\\/g')
# In sed's replacement, & \ and the | delimiter are special: escape them too.
quoted_sed=$(printf '%s' "$quoted" | sed -e 's/[&|\\]/\\&/g')
plain_sed=$(printf '%s' "$plain" | sed -e 's/[&|\\]/\\&/g')

mkdir -p "$APPS" "$ICONS"
sed -e "s|^Exec=hearth|Exec=\"$quoted_sed\"|" -e "s|^TryExec=hearth|TryExec=$plain_sed|" \
    "$ENTRY_SOURCE" > "$APPS/$APP_ID.desktop.tmp"
mv "$APPS/$APP_ID.desktop.tmp" "$APPS/$APP_ID.desktop"
cp "$ICON_SOURCE" "$ICONS/$APP_ID.svg"
refresh
echo "Hearth is in your applications menu (Exec=$EXE)."
