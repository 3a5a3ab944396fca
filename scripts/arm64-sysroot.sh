#!/usr/bin/env bash
# An arm64 (aarch64) root for running the Lambda package under qemu user emulation, no Docker:
# Debian's arm64 Python 3.11 (the Lambda runtime's version) and the libraries it loads, unpacked
# with dpkg -x; AWS's runtime interface client (awslambdaric) and the boto3 that the Lambda
# runtime provides, as aarch64 wheels from PyPI. tests/e2e/test_lambda_arm64.py runs the zip in it.
# Usage: scripts/arm64-sysroot.sh [folder]   (default /var/cache/tsh-arm64; kept between runs)
# Prints the folder; exits non-zero, loudly, when something cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${1:-/var/cache/tsh-arm64}"
# Pinned: the runtime client, and what the Lambda runtime carries (boto3 and its dependencies)
# at the versions the tests run.
WHEELS=(awslambdaric==4.2.2 simplejson==4.3.0 snapshot-restore-py==1.0.0
        boto3==1.44.8 botocore==1.44.18 jmespath==1.1.0 s3transfer==0.19.3
        python-dateutil==2.9.0.post0 six==1.17.0 urllib3==2.8.0)
PACKAGES=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libexpat1 zlib1g
          libssl3 libffi8 libbz2-1.0 liblzma5 libsqlite3-0 libuuid1 libcrypt1 libnsl2 libtirpc3
          libstdc++6 libgcc-s1 libncursesw6 libtinfo6 libreadline8)
stamp="$root/.complete-$(echo "${WHEELS[*]} ${PACKAGES[*]}" | sha256sum | cut -c1-16)"
if [ -e "$stamp" ]; then echo "$root"; exit 0; fi

if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
if ! command -v qemu-aarch64 >/dev/null; then
    "${sudo[@]}" apt-get update -qq >&2 && "${sudo[@]}" apt-get install -y -qq qemu-user >/dev/null
fi
command -v qemu-aarch64 >/dev/null || { echo "FATAL: qemu-aarch64 (Debian: qemu-user) could not be installed" >&2; exit 1; }
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    "${sudo[@]}" dpkg --add-architecture arm64
    "${sudo[@]}" apt-get update -qq >&2
fi

rm -rf "$root.partial" && mkdir -p "$root.partial/debs" "$root.partial/sysroot" "$root.partial/runtime"
(cd "$root.partial/debs" && apt-get download -qq "${PACKAGES[@]/%/:arm64}" >&2) || {
    "${sudo[@]}" apt-get update -qq >&2
    (cd "$root.partial/debs" && apt-get download -qq "${PACKAGES[@]/%/:arm64}" >&2)
} || { echo "FATAL: the arm64 Debian packages could not be downloaded" >&2; exit 1; }
for deb in "$root.partial"/debs/*.deb; do dpkg -x "$deb" "$root.partial/sysroot"; done
python="${PYTHON:-.venv/bin/python}"
"$python" -m pip download -q --only-binary=:all: --no-deps --platform manylinux2014_aarch64 --python-version 3.11 \
    --implementation cp -d "$root.partial/wheels" "${WHEELS[@]}" >&2 \
    || { echo "FATAL: the aarch64 wheels (${WHEELS[*]}) could not be downloaded" >&2; exit 1; }
for wheel in "$root.partial"/wheels/*.whl; do "$python" -m zipfile -e "$wheel" "$root.partial/runtime"; done
rm -rf "$root.partial/debs" "$root.partial/wheels"
qemu-aarch64 -L "$root.partial/sysroot" "$root.partial/sysroot/usr/bin/python3.11" -c \
    "import sys, ssl, ctypes, decimal; sys.path.insert(0, '$root.partial/runtime'); import awslambdaric.bootstrap, boto3" \
    || { echo "FATAL: the arm64 Python does not start under qemu-aarch64" >&2; exit 1; }
rm -rf "$root" && mv "$root.partial" "$root" && touch "$stamp"
echo "$root"
