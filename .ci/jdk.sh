# Sourced by ./ferry, .ci/run and reliability/run: finds a JDK >= 21 and exports JAVA_HOME and PATH.
java_major() {
  # Prints the major version of the JDK at $1, or nothing when it is not a JDK.
  local home=$1
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  # the JDK's release file says it without starting a JVM (a tenth of a second each)
  local released
  released=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release" 2>/dev/null | head -n 1)
  if [ -n "$released" ]; then
    echo "$released"
    return 0
  fi
  "$home/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

pick_jdk() {
  local candidate major on_path=""
  major=$(java_major "${JAVA_HOME:-/nonexistent}")
  if [ -n "$major" ] && [ "$major" -ge 21 ]; then
    echo "$JAVA_HOME" # the one asked for, found without asking any other
    return 0
  fi
  if command -v java >/dev/null 2>&1; then
    # ask the JVM itself: shims (asdf, mise, jenv) and macOS's /usr/bin/java stub hide where it lives
    on_path=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.home = //p' | head -n 1)
  fi
  local mac=""
  if [ -x /usr/libexec/java_home ]; then
    mac=$(/usr/libexec/java_home -v 21+ 2>/dev/null || true)
  fi
  for candidate in "${JAVA_HOME:-}" "$on_path" "$mac" /usr/lib/jvm/* /Library/Java/JavaVirtualMachines/*/Contents/Home \
      "${HOME:-/nonexistent}"/.sdkman/candidates/java/*; do
    [ -n "$candidate" ] && [ -d "$candidate" ] || continue
    major=$(java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 21 ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if ! JAVA_HOME=$(pick_jdk); then
  echo "ferry: no JDK >= 21 found (looked at JAVA_HOME='${JAVA_HOME:-}', java on the PATH, /usr/lib/jvm/*," >&2
  echo "ferry: /Library/Java/JavaVirtualMachines and ~/.sdkman). Install one (e.g. Temurin 21 or 25) or point" >&2
  echo "ferry: JAVA_HOME at it." >&2
  exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
