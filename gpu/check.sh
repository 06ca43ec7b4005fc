#!/usr/bin/env bash
# The GPU check (issue 17): the CUDA backend on the graph runtime, on a machine with an NVIDIA GPU.
#
# The device machines lent to sessions have CUDA but no JDK and no network, so the check travels as a
# bundle made here first:
#
#   gpu/check.sh prepare     here: builds the jars, a JDK 25 runtime (jlink), the gpu module's tests with
#                            their class path, and a few zoo oracle files, packed into .gpucheck/bundle.tar.xz
#                            (git-ignored; about 55 MiB: the device tool carries at most 64)
#   gpu/check.sh run [OUT]   there (device tool: carry .gpucheck/bundle.tar.xz, command "bash gpu/check.sh run $OUT"):
#                            the gpu module's tests (CUDA kernels and whole models on CUDA0 against the
#                            oracles), then panllama bench with -ngl 99 on a 1B llama file and -ngl 99
#                            -ot exps=CPU on a MoE file (with and without op offload), each beside the
#                            CPU-only run; figures into OUT
#                            (default .gpucheck/out). Well under 10 minutes on 16 cores and an H100.
#
# Without a GPU, "run" still runs: the GPU tests skip saying why and the benches run on the CPU.
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
BUNDLE="$ROOT/.gpucheck/bundle.tar.xz"
B=/tmp/gpucheck           # the unpacked bundle
JUNIT_CONSOLE=org.junit.platform:junit-platform-console-standalone:1.14.1
# Oracle files the tests use beyond the ones bundled under testdata/zoo (the carry limit allows few).
ZOO="zoo-qwen3moe-Q4_K"

prepare() {
    . "$ROOT/scripts/jdk.sh"
    panllama_find_jdk || exit 1
    export JAVA_HOME="$PANLLAMA_JAVA_HOME"
    cd "$ROOT"
    ./mvnw -q -B -DskipTests install
    ./mvnw -q -B -pl gpu test-compile
    rm -rf "$B" && mkdir -p "$B/lib" "$B/shared/reference/zoo/logits"
    # The CLI jar holds every main class and dependency; tests add AssertJ and JUnit's console launcher.
    cp tools/target/panllama.jar "$B/"
    ./mvnw -q -B dependency:copy -Dartifact=org.assertj:assertj-core:3.27.7 -DoutputDirectory="$B/lib"
    ./mvnw -q -B dependency:copy -Dartifact="$JUNIT_CONSOLE" -DoutputDirectory="$B"
    cp -r gpu/target/test-classes "$B/gpu-test-classes"
    cp -r runtime/target/test-classes "$B/runtime-test-classes"
    for z in $ZOO; do
        cp "../shared/reference/zoo/$z.gguf" "$B/shared/reference/zoo/"
        cp ../shared/reference/zoo/logits/"$z".* "$B/shared/reference/zoo/logits/" 2>/dev/null || true
    done
    # A runtime with the modules the CLI and the tests use (jdeps), xz-packed with the rest: a full JDK
    # would not fit the carry limit.
    "$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,java.management,jdk.httpserver,jdk.unsupported,java.xml,java.naming,java.sql,jdk.zipfs,java.desktop,jdk.management \
        --strip-debug --no-man-pages --no-header-files --output "$B/jdk"
    rm -f "$B"/jdk/lib/server/classes*.jsa
    mkdir -p "$(dirname "$BUNDLE")"
    tar -cJf "$BUNDLE" -C "$(dirname "$B")" "$(basename "$B")"
    ls -la "$BUNDLE"
}

run() {
    OUT="${1:-$ROOT/.gpucheck/out}"
    mkdir -p "$OUT"
    rm -rf "$B" && tar -xJf "$BUNDLE" -C "$(dirname "$B")"
    J="$B/jdk/bin/java"
    FLAGS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED"
    P() { "$J" $FLAGS -Dpanllama.home="$ROOT" -jar "$B/panllama.jar" "$@"; }
    cd "$ROOT"
    ( nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "no nvidia-smi" ) | tee "$OUT/gpu.txt"
    P --list-devices 2>&1 | tee -a "$OUT/gpu.txt"

    echo "== gpu module tests" | tee "$OUT/tests.txt"
    CP="$B/gpu-test-classes:$B/runtime-test-classes:$B/panllama.jar:$(ls "$B"/lib/*.jar | tr '\n' ':')"
    timeout 300 "$J" $FLAGS -Dpanllama.shared="$B/shared" -jar "$B"/junit-platform-console-standalone-*.jar execute \
        --class-path "$CP" --select-package dev.panllama.gpu --details=summary --disable-banner 2>&1 | tee -a "$OUT/tests.txt" || true

    echo "== bench" | tee "$OUT/bench.txt"
    VOCAB=testdata/llama.cpp-vocab/ggml-vocab-llama-spm.gguf
    DENSE=/tmp/gpucheck-1b-q4_0.gguf MOE=/tmp/gpucheck-moe-q4_k.gguf
    [ -f $DENSE ] || P synth --arch llama --preset 1b --type q4_0 --vocab-from "$VOCAB" $DENSE 2>&1 | tail -1
    [ -f $MOE ] || P synth --arch qwen3moe --preset moe --layers 4 --type q4_K --vocab-from "$VOCAB" $MOE 2>&1 | tail -1
    T=$(nproc)
    SIZES="${PANLLAMA_CHECK_BENCH:--p 512 -n 128}"
    for args in "-m $DENSE -ngl 99" "-m $DENSE -ngl 0" "-m $MOE -ngl 99 -ot exps=CPU" "-m $MOE -ngl 99 -ot exps=CPU -nopo" \
                "-m $MOE -ngl 99" "-m $MOE -ngl 0"; do
        echo "-- panllama bench $args $SIZES -t $T" | tee -a "$OUT/bench.txt"
        timeout 80 "$J" $FLAGS -Dpanllama.home="$ROOT" -jar "$B/panllama.jar" bench $args $SIZES -t "$T" 2>&1 \
            | grep -E '^\||error|warning' | tee -a "$OUT/bench.txt" || true
    done
    echo "-- splits of one token, -ngl 99 -ot exps=CPU" | tee -a "$OUT/bench.txt"
    P run -m $MOE -ngl 99 -ot exps=CPU --print-splits -p hi -n 1 2>&1 | grep -E 'splits, |^split [0-3]:' | tee -a "$OUT/bench.txt" || true
}

case "${1:-}" in
    prepare) prepare ;;
    run) shift; run "$@" ;;
    *) echo "usage: gpu/check.sh prepare | run [OUT]" >&2; exit 2 ;;
esac
