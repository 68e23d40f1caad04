#!/usr/bin/env bash
# MultiViewVAE as a dependency: the consumer package here, copied outside the repository, depends on the
# repository by path, builds and runs (trains, encodes, imputes). And the manifest has no unsafeFlags,
# which SwiftPM refuses in a package that others fetch by URL.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d /tmp/mvvae-consumer.XXXXXX)"
trap 'rm -rf "$work"' EXIT
if swift package --package-path "$root" dump-package | grep -q unsafeFlags; then
  echo "FAIL: Package.swift uses unsafeFlags: a package that depends on MultiViewVAE by URL could not build" >&2; exit 1
fi
cp -R "$root/Tests/consumer/Package.swift" "$root/Tests/consumer/Sources" "$work/"
sed -i "s|MULTIVIEWVAE_PATH|$root|" "$work/Package.swift"
# Its own build folder, beside the repository's (the library is built again for this root package).
scratch="$root/.build/consumer"
swift build --package-path "$work" --scratch-path "$scratch" -q 2>&1 | { grep -v "^$" || true; }
out=$("$scratch/debug/consumer")
echo "$out"
grep -q "consumer: loss .* latent means; view 2 imputed as" <<< "$out" || { echo "FAIL: the consumer did not finish" >&2; exit 1; }
echo "a package outside the repository depends on MultiViewVAE by path, builds and trains: ok"
