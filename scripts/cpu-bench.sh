#!/usr/bin/env bash
# Builds the CPU backend's JMH benchmarks (Maven profile "bench") and runs them with a JDK >= 25.
# Arguments go to JMH, e.g.:  scripts/cpu-bench.sh MatVec -p type=Q4_K,Q6_K -p threads=2
# With none, every benchmark runs with the settings cpu/BENCHMARKS.md reports (about 10 minutes).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/scripts/jdk.sh"
panllama_find_jdk || exit 1
cd "$ROOT"
./mvnw -q -B -pl cpu -am -Pbench -DskipTests package
if [ $# -eq 0 ]; then set -- -f 1 -wi 2 -i 3 -w 2 -r 2; fi
exec "$PANLLAMA_JAVA_HOME/bin/java" -jar cpu/target/benchmarks.jar "$@"
