#!/usr/bin/env bash
# Rebuilds the shipped PTX from gpu/src/main/cuda/*.cu (Maven ships the .cu files themselves, for NVRTC).
#
# For each X.cu: resources/dev/panllama/gpu/ptx/X.ptx is "// panllama-source-sha256: <sha256 of X.cu, then
# the headers it includes, in order>" followed by the output of `nvcc -ptx -arch=compute_75 -O3`. PtxFreshnessTest fails the build when a PTX
# is stale. When ptxas is found too,
# each PTX is assembled for sm_80 and its per-kernel register and spill counts are printed.
#
# nvcc: $NVCC, else nvcc on the PATH, else the newest /usr/local/cuda*/bin/nvcc.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/src/main/cuda"
res="$here/src/main/resources/dev/panllama/gpu"

nvcc="${NVCC:-}"
if [[ -z "$nvcc" ]]; then
    nvcc="$(command -v nvcc || true)"
fi
if [[ -z "$nvcc" ]]; then
    nvcc="$(ls -d /usr/local/cuda*/bin/nvcc 2>/dev/null | sort -V | tail -n 1 || true)"
fi
if [[ -z "$nvcc" || ! -x "$nvcc" ]]; then
    echo "build-ptx.sh: nvcc not found (set NVCC=/path/to/nvcc)" >&2
    exit 1
fi
ptxas="$(dirname "$(readlink -f "$nvcc")")/ptxas"
[[ -x "$ptxas" ]] || ptxas="$(command -v ptxas || true)"

mkdir -p "$res/ptx"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

shopt -s nullglob
sources=("$src"/*.cu)
if (( ${#sources[@]} == 0 )); then
    echo "build-ptx.sh: no .cu files in $src" >&2
    exit 1
fi

for cu in "${sources[@]}"; do
    name="$(basename "$cu" .cu)"
    # only headers of this directory, by quoted name: what CudaModules hands NVRTC
    headers=()
    while IFS= read -r h; do headers+=("$src/$h"); done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/p' "$cu")
    for h in "${headers[@]}"; do
        [[ -f "$h" ]] || { echo "build-ptx.sh: $name.cu includes $(basename "$h"), not in $src" >&2; exit 1; }
    done
    "$nvcc" -ptx -arch=compute_75 -O3 -o "$tmp/$name.ptx" "$cu"
    sha="$(cat "$cu" "${headers[@]}" | sha256sum | cut -d' ' -f1)"
    { echo "// panllama-source-sha256: $sha"; cat "$tmp/$name.ptx"; } > "$res/ptx/$name.ptx"
    echo "$name: $(grep -c '\.entry ' "$res/ptx/$name.ptx") kernels -> ptx/$name.ptx"
    if [[ -n "$ptxas" && -x "$ptxas" ]]; then
        "$ptxas" -arch=sm_80 -v "$res/ptx/$name.ptx" -o /dev/null 2>&1 | awk '
            /Compiling entry function/ { match($0, /\x27[^\x27]+\x27/); fn = substr($0, RSTART + 1, RLENGTH - 2) }
            /spill stores/ { spill = $0; sub(/^[[:space:]]+/, "", spill) }
            /Used [0-9]+ registers/ { match($0, /Used [0-9]+ registers/); printf "    %-16s sm_80: %s; %s\n", fn, substr($0, RSTART, RLENGTH), spill }
            /error/ { print; bad = 1 }
            END { exit bad }'
    fi
done
