#!/bin/sh
# make firmware IB=<image builder dir> PROFILE=<device>: an OpenWrt image with BitMesh.
# Puts the .ipk files from dist/ into the Image Builder's local package directory, builds
# a files overlay (firmware/files plus site.conf as /etc/bitmesh/site.conf) and runs the
# Image Builder with the package list in firmware/packages.txt.
# Usage: firmware/build.sh IB_DIR PROFILE [ROLE]   (ROLE: gateway or client, default client)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
ib=${1:-}
profile=${2:-}
role=${3:-client}

die() { echo "firmware: $*" >&2; exit 1; }

if [ -z "$ib" ] || [ -z "$profile" ]; then
	die "usage: make firmware IB=<image builder dir> PROFILE=<device> [ROLE=gateway|client]"
fi
if [ ! -f "$ib/Makefile" ] || [ ! -d "$ib/target" ]; then
	die "$ib is not an OpenWrt Image Builder (no Makefile and target/)"
fi
case "$role" in gateway|client) ;; *) die "ROLE must be gateway or client, got '$role'" ;; esac
if grep -qs '^CONFIG_USE_APK=y' "$ib/.config"; then
	ls "$ib"/packages/bitmesh-*.apk >/dev/null 2>&1 ||
		die "$ib builds apk images (OpenWrt 25.x): build bitmesh and luci-app-bitmesh with the SDK and put the .apk files in $ib/packages/"
else
	set -- "$root"/dist/bitmesh_*_all.ipk
	[ -f "$1" ] || die "no dist/bitmesh_*_all.ipk: run 'make ipk' first"
	mkdir -p "$ib/packages"
	cp "$root"/dist/bitmesh_*_all.ipk "$root"/dist/luci-app-bitmesh_*_all.ipk "$ib/packages/"
fi

grep -q "^	option mesh_key 'change-this-community-key'" "$here/site.conf" &&
	echo "firmware: warning: site.conf still has the example mesh_key; anyone can join this mesh" >&2

overlay=$(mktemp -d)
trap 'rm -rf "$overlay"' EXIT
cp -a "$here/files/." "$overlay/"
mkdir -p "$overlay/etc/bitmesh"
chmod 0700 "$overlay/etc/bitmesh"
cp "$here/site.conf" "$overlay/etc/bitmesh/site.conf"
chmod 0600 "$overlay/etc/bitmesh/site.conf"
# The role this image starts with; first boot turns it into the mesh setup.
mkdir -p "$overlay/etc/uci-defaults"
printf '#!/bin/sh\nuci -q set bitmesh.main.role=%s && uci -q commit bitmesh\nexit 0\n' "$role" >"$overlay/etc/uci-defaults/94-bitmesh-role"
chmod 0755 "$overlay/etc/uci-defaults/94-bitmesh-role"

packages=$(grep -v '^#' "$here/packages.txt" | tr '\n' ' ')
make -C "$ib" image PROFILE="$profile" PACKAGES="$packages" FILES="$overlay" EXTRA_IMAGE_NAME="bitmesh-$role"
echo "firmware: images in $ib/bin/targets/"
