#!/usr/bin/env bash
# The Slurm tests (build tag slurm) against real Slurm daemons on this
# machine: a one-node cluster, then a two-node one (two slurmd with their own
# NodeName and Port on this host), each brought up by scripts/slurm-local.sh
# in a temporary folder and stopped by its pid files afterwards. Needs root
# (the daemons run as root; apt installs Slurm and munge when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "test-slurm: SKIPPED: not root (the Slurm and munge daemons of the test run as root)"
	exit 0
fi
tmp=$(mktemp -d /tmp/awd-slurm.XXXXXX)
cleanup() {
	scripts/slurm-local.sh down "$tmp/cluster" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
for nodes in 1 2; do
	echo "test-slurm: $nodes node(s)"
	scripts/slurm-local.sh up "$tmp/cluster" "$nodes"
	SLURM_CONF="$tmp/cluster/slurm.conf" go test -tags slurm -count=1 -run Slurm ./sweep ./cmd/awd
	scripts/slurm-local.sh down "$tmp/cluster"
	rm -rf "$tmp/cluster"
done
