# Sourced by ./panllama and ./mvnw: sets PANLLAMA_JAVA_HOME to a JDK >= 25.
# Order: $JAVA_HOME, then `java` on PATH, then the newest under /usr/lib/jvm (and /opt, ~/.sdkman).
panllama_java_version() {  # prints the feature version of the java binary $1, or nothing
  # A JDK's `release` file names its version (JAVA_VERSION="25.0.3", or "1.8.0_392" before 9): reading it
  # is instant, where starting each candidate JVM cost the launcher ~0.5 s. Read with bash alone: every
  # forked sed or dirname cost the launcher's start a few milliseconds more.
  local release="${1%/*}/../release" line v
  if [ -f "$release" ]; then
    while IFS= read -r line; do
      case "$line" in
        JAVA_VERSION=\"*)
          v=${line#JAVA_VERSION=\"}
          v=${v#1.}
          v=${v%%[!0-9]*}
          if [ -n "$v" ]; then echo "$v"; return; fi
          ;;
      esac
    done < "$release"
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
    [ -x "${j%/*}/javac" ] || continue   # a JDK, not a bare JRE: the launcher may build
    v=$(panllama_java_version "$j")
    [ -n "$v" ] || continue
    if [ "$v" -ge 25 ]; then
      # The first acceptable candidate in priority order wins.
      PANLLAMA_JAVA_HOME=$(cd "${j%/*}/.." && pwd)
      export PANLLAMA_JAVA_HOME
      return 0
    fi
    if [ "$v" -gt "$bestv" ]; then best=$j; bestv=$v; fi
  done
  echo "panllama: needs a JDK 25 or newer; found ${best:-no JDK} ${bestv:+(Java $bestv)}." >&2
  echo "panllama: install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
  return 1
}
