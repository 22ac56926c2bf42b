#!/usr/bin/env bash
# Make the local Debian bookworm base image the tests and `make image` build on, where no registry can be
# reached: mmdebstrap (minbase; documentation and apt's binary caches off, like the official -slim images) from the Debian mirror
# this machine's apt uses, then `docker import`. Cached by tag: an image with the tag already present is kept.
#
#   scripts/build-base-image.sh            # prints the tag, e.g. temporal-dsql-base:bookworm-minbase-1
#
# Environment: BASE_IMAGE_TAG (the tag to make), DEBIAN_MIRROR (default: the first deb.debian.org-style URI
# of /etc/apt/sources.list(.d)), DOCKER_CLI (default docker).
set -euo pipefail

suite=bookworm
recipe=2 # bump when the options below change, so a cached image of the old recipe is not reused
tag=${BASE_IMAGE_TAG:-temporal-dsql-base:$suite-minbase-$recipe}
docker_cli=${DOCKER_CLI:-docker}

if "$docker_cli" image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag"
  exit 0
fi
command -v mmdebstrap >/dev/null || { echo "error: mmdebstrap is not installed (apt-get install mmdebstrap)" >&2; exit 69; }

mirror=${DEBIAN_MIRROR:-}
if [[ -z $mirror ]]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
    | grep -E '^[[:space:]]*(deb|URIs:)[[:space:]]' | grep -oE 'https?://[^ ]+/debian/?' | grep -v security \
    | head -n 1 || true)
fi
[[ -n $mirror ]] || { echo "error: DEBIAN_MIRROR: no Debian mirror found in /etc/apt; set it to a URL" >&2; exit 78; }

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
echo "making $tag from $mirror (about a minute)" >&2
mmdebstrap --quiet --variant=minbase --format=tar \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --aptopt='APT::Install-Recommends "false"' \
  --aptopt='Dir::Cache::pkgcache ""' \
  --aptopt='Dir::Cache::srcpkgcache ""' \
  "$suite" "$workdir/rootfs.tar" "deb $mirror $suite main" "deb $mirror $suite-updates main" >&2
"$docker_cli" import \
  --change 'CMD ["bash"]' \
  --change 'ENV LANG=C.UTF-8' \
  --message "mmdebstrap --variant=minbase $suite from $mirror" \
  "$workdir/rootfs.tar" "$tag" >/dev/null
echo "$tag"
