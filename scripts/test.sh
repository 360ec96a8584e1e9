#!/usr/bin/env bash
# The whole test suite, as CI runs it (README: "run the tests").
#
#   static checks  gofmt, go vet (amd64 and arm64), generated assembly up to date
#   full tests     go test ./... at the best kernel level of this CPU
#   per level      go test -short ./... once per kernel level the CPU has (AWD_KERNELS)
#   purego         go test -short -tags purego ./...
#   slurm          the sweep's Slurm tests against a local one-node, then two-node, Slurm
#                  (scripts/test-slurm.sh; installs slurm and munge with apt; skipped when not root)
#   emulated       kernels and linalg tests for arm64 (NEON) under qemu-aarch64, the AVX2 level
#                  under qemu-x86_64 -cpu Haswell (no AVX-512 there) and generic under -cpu SandyBridge
#
# Set AWD_TEST_QUICK=1 to skip the emulated and per-level runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:-} -mod=readonly"

start=$SECONDS
step() { printf '\n=== %s (%ds)\n' "$*" $((SECONDS - start)); }

scripts/deps.sh

step "gofmt"
bad=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$bad" ]; then echo "gofmt would change: $bad"; exit 1; fi

step "go vet (amd64, arm64, purego)"
go vet ./...
GOARCH=arm64 go vet ./...
go vet -tags purego ./...
go vet -tags slurm ./sweep ./cmd/awd
go -C asm vet ./...

step "generated assembly is up to date"
go generate -tags generate .
if [ -n "$(git status --porcelain -- kernels)" ]; then
	git status --porcelain -- kernels
	git diff --stat -- kernels
	echo "go generate changed committed files: regenerate and commit them"
	exit 1
fi
# the AVX2 register lint is kernels/asmlint_test.go, run with the tests below

step "go test ./... (level $(go run ./cmd/awd version | sed -n 's/^kernels: \([a-z0-9]*\).*/\1/p'))"
go test -count=1 -timeout 30m ./...

step "Slurm: a sweep as a job array with its collect job, on a local one-node and two-node cluster"
scripts/test-slurm.sh

step "go test -short -tags purego ./..."
go test -count=1 -timeout 30m -short -tags purego ./...

if [ "${AWD_TEST_QUICK:-}" = 1 ]; then exit 0; fi

for level in generic avx2 avx512 neon; do
	if ! AWD_KERNELS=$level go run ./cmd/awd version >/dev/null 2>&1; then
		echo "(kernel level $level: not on this CPU)"
		continue
	fi
	step "AWD_KERNELS=$level go test -short ./..."
	AWD_KERNELS=$level go test -count=1 -timeout 30m -short ./...
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
emulated=(./kernels ./linalg)

step "arm64 tests under qemu-aarch64"
for p in "${emulated[@]}"; do
	GOARCH=arm64 go test -c -o "$tmp/arm64.test" "$p"
	(cd "$p" && qemu-aarch64-static "$tmp/arm64.test" -test.short -test.count=1)
done

if [ "$(go env GOARCH)" = amd64 ]; then
	step "AVX2 under qemu-x86_64 -cpu Haswell, generic under -cpu SandyBridge"
	for p in "${emulated[@]}"; do
		go test -c -o "$tmp/amd64.test" "$p"
		# qemu warns once per thread about CPUID bits TCG cannot emulate; drop that noise.
		(cd "$p" && AWD_KERNELS=avx2 qemu-x86_64-static -cpu Haswell "$tmp/amd64.test" -test.short -test.count=1) \
			2> >(grep -v "TCG doesn't support requested feature" >&2)
		(cd "$p" && qemu-x86_64-static -cpu SandyBridge "$tmp/amd64.test" -test.short -test.count=1) \
			2> >(grep -v "TCG doesn't support requested feature" >&2)
	done
fi

step "all tests passed"
