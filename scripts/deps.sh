#!/usr/bin/env bash
# Installs what the tests need beyond Go and the module proxy, if missing:
# qemu-user-static (arm64 tests, and AVX2/generic kernels on older x86 CPUs)
# and Debian's Fashion-MNIST; with AWD_OPENBLAS=1 OpenBLAS and LAPACKE (the
# openblas build tag), with AWD_TORCH=1 python3-torch (the PyTorch
# reference of `awd bench cnn`). Needs root (apt-get); prints what it does.
set -euo pipefail

need=()
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need+=(dataset-fashion-mnist)
# AWD_TORCH=1: Debian's PyTorch for bench/torch_cnn.py (`awd bench cnn --torch`);
# never needed by the build or the tests.
if [ "${AWD_TORCH:-}" = 1 ]; then
	/usr/bin/python3 -c 'import torch' 2>/dev/null || need+=(python3-torch)
fi
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
