#!/usr/bin/env bash
# Copies the Debian-packaged build dependencies (headers, CMake package files, the few libraries) into
# build/gpu-deps/usr, for a GPU machine that has CUDA, CMake and PyTorch but no Debian packages and no
# network: copy build/gpu-deps there together with the checkout and scripts/gpu-check.sh builds against
# it. Run on a Debian machine, after scripts/setup.sh. About 20 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=build/gpu-deps/usr
rm -rf build/gpu-deps
mkdir -p "$dest/include" "$dest/lib" "$dest/share"
for d in eigen3 catch2 benchmark CLI nlohmann stb; do cp -a "/usr/include/$d" "$dest/include/"; done
cp -a /usr/include/zlib.h /usr/include/zconf.h "$dest/include/"
multi=/usr/lib/x86_64-linux-gnu
cp -a "$multi"/libbenchmark* "$multi"/libstb.so* "$multi"/libz.so* /usr/lib/libCatch2WithMain.a "$dest/lib/"
mkdir -p "$dest/lib/cmake" "$dest/share/cmake" "$dest/lib/x86_64-linux-gnu/cmake"
# benchmark's package files find their libraries relative to lib/x86_64-linux-gnu/cmake: keep that layout
cp -a "$multi/cmake/benchmark" "$dest/lib/x86_64-linux-gnu/cmake/"
cp -a "$multi"/libbenchmark* "$dest/lib/x86_64-linux-gnu/"
cp -a /usr/share/eigen3 "$dest/share/"
cp -a /usr/lib/cmake/Catch2 "$dest/lib/cmake/" 2>/dev/null || cp -a "$multi/cmake/Catch2" "$dest/lib/cmake/"
for p in CLI11 nlohmann_json; do
  src=$(dirname "$(find /usr/share /usr/lib -name "${p}Config.cmake" -print -quit)")
  cp -a "$src" "$dest/share/cmake/$p"
done
# The package files name /usr/include and /usr/lib absolutely: point them at the copy.
grep -rl "/usr/" "$dest/lib/cmake" "$dest/lib/x86_64-linux-gnu/cmake" "$dest/share" | while read -r f; do
  sed -i "s|/usr/include|$PWD/$dest/include|g; s|/usr/lib/x86_64-linux-gnu|$PWD/$dest/lib|g; s|/usr/lib|$PWD/$dest/lib|g" "$f"
done
echo "$PWD/$dest" > build/gpu-deps/prefix # gpu-check.sh moves the paths when the checkout lies elsewhere
du -sh build/gpu-deps
