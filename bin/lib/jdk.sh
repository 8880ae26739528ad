# Sourced by bin/warmroute and bin/test: the one way this project finds a JDK 25. Sets JDK (and exports JAVA_HOME)
# or prints where it looked and what to install, then exits 3. Order: $JAVA_HOME, the usual install folders
# (Debian's /usr/lib/jvm, the Temurin container layout, SDKMAN, macOS), then `java` on the PATH. A machine whose
# default java is 17 with a Temurin 25 beside it (Debian with Adoptium's package) is the common case.
# JDK_NEEDS_JAVAC=1 (bin/test) skips runtimes without a compiler; the launcher is content with a JRE.
REQUIRED_JAVA=25

java_major() { # prints the feature version of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -1
}

find_jdk() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  local d
  for d in /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25-* /usr/lib/jvm/*25* /opt/java/openjdk /opt/jdk-25* \
           "$HOME"/.sdkman/candidates/java/25* /Library/Java/JavaVirtualMachines/*25*/Contents/Home; do
    [ -d "$d" ] && candidates+=("$d")
  done
  local c v
  for c in "${candidates[@]}"; do
    if [ -x "$c/bin/java" ] && { [ -z "${JDK_NEEDS_JAVAC:-}" ] || [ -x "$c/bin/javac" ]; }; then
      v="$(java_major "$c/bin/java")"
      if [ -n "$v" ] && [ "$v" -ge "$REQUIRED_JAVA" ]; then echo "$c"; return 0; fi
    fi
  done
  if command -v java >/dev/null 2>&1; then
    v="$(java_major "$(command -v java)")"
    if [ -n "$v" ] && [ "$v" -ge "$REQUIRED_JAVA" ]; then dirname "$(dirname "$(readlink -f "$(command -v java)")")"; return 0; fi
  fi
  return 1
}

if ! JDK="$(find_jdk)"; then
  {
    echo "warmroute: JDK $REQUIRED_JAVA or newer not found."
    echo "  Looked at: \$JAVA_HOME (${JAVA_HOME:-unset}), /usr/lib/jvm/*25*, /opt/java/openjdk, /opt/jdk-25*,"
    echo "  ~/.sdkman/candidates/java/25*, /Library/Java/JavaVirtualMachines/*25*, and java on PATH ($(command -v java || echo none))."
    echo "  Install a JDK 25, for example Eclipse Temurin 25 (Debian/Ubuntu: the temurin-25-jdk package from"
    echo "  packages.adoptium.net; macOS: brew install --cask temurin@25), or set JAVA_HOME to one."
  } >&2
  exit 3
fi
export JAVA_HOME="$JDK"
export PATH="$JDK/bin:$PATH"
