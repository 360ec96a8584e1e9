#!/usr/bin/env bash
# Installs what the tests need beyond Go and the module proxy, if missing:
# qemu-user-static (arm64 tests, and AVX2/generic kernels on older x86 CPUs)
# and Debian's Fashion-MNIST. Needs root (apt-get); prints what it does.
set -euo pipefail

need=()
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need+=(dataset-fashion-mnist)
if [ "${AWD_OPENBLAS:-}" = 1 ]; then
	[ -f /usr/include/x86_64-linux-gnu/cblas.h ] || [ -f /usr/include/cblas.h ] || need+=(libopenblas-dev liblapacke-dev)
fi
[ ${#need[@]} -eq 0 ] && exit 0

echo "deps: installing ${need[*]}" >&2
if [ "$(id -u)" != 0 ]; then
	echo "deps: need root to apt-get install ${need[*]} (or install them yourself)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
