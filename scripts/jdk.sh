# Sourced by ./panllama and ./mvnw: sets PANLLAMA_JAVA_HOME to a JDK >= 25.
# Order: $JAVA_HOME, then `java` on PATH, then the newest under /usr/lib/jvm (and /opt, ~/.sdkman).
panllama_java_version() {  # prints the feature version of the java binary $1, or nothing
  # A JDK's `release` file names its version (JAVA_VERSION="25.0.3", or "1.8.0_392" before 9): reading it
  # is instant, where starting each candidate JVM cost the launcher ~0.5 s. Without one, ask the JVM.
  local release v
  release="$(dirname "$1")/../release"
  if [ -f "$release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\(1\.\)\{0,1\}\([0-9]*\).*/\2/p' "$release" | head -n1)
    if [ -n "$v" ]; then echo "$v"; return; fi
  fi
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}

panllama_find_jdk() {
  local candidates=() j v best="" bestv=0
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(readlink -f "$(command -v java)")")
  fi
  for j in /usr/lib/jvm/*/bin/java /opt/*/bin/java /opt/java/*/bin/java "$HOME"/.sdkman/candidates/java/*/bin/java; do
    [ -x "$j" ] && candidates+=("$j")
  done
  for j in "${candidates[@]}"; do
    [ -x "$j" ] || continue
    [ -x "$(dirname "$j")/javac" ] || continue   # a JDK, not a bare JRE: the launcher may build
    v=$(panllama_java_version "$j")
    [ -n "$v" ] || continue
    if [ "$v" -ge 25 ]; then
      # The first acceptable candidate in priority order wins.
      PANLLAMA_JAVA_HOME=$(cd "$(dirname "$j")/.." && pwd)
      export PANLLAMA_JAVA_HOME
      return 0
    fi
    if [ "$v" -gt "$bestv" ]; then best=$j; bestv=$v; fi
  done
  echo "panllama: needs a JDK 25 or newer; found ${best:-no JDK} ${bestv:+(Java $bestv)}." >&2
  echo "panllama: install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
  return 1
}
