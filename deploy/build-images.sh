#!/usr/bin/env bash
# Builds warmroute's container image without a Docker daemon and without a registry:
#   1. a JRE 25 base image as a tar (docker-save format): jlink'ed runtime with the modules warmroute needs, the
#      shared libraries it links, busybox-static as /bin/sh; written by hand (config + manifest), no daemon;
#   2. the warmroute image on top of it with Jib's buildTar (deploy/pom.xml, profile "image").
# With a registry at hand, skip step 1: --base-image eclipse-temurin:25-jre (Jib pulls it).
#
#   deploy/build-images.sh [--base-image IMAGE] [--image NAME:TAG] [--load] [--base-only]
#     --base-image IMAGE   build on IMAGE from a registry instead of the local JRE tar
#     --image NAME:TAG     the image's name (default warmroute:latest)
#     --load               docker load both tars afterwards (needs a running Docker engine)
#     --base-only          only the JRE base tar (CI then builds the image inside `mvn verify -Pimage-docker`)
# Output (never committed): deploy/target/images/warmroute-jre-25.tar, deploy/target/warmroute-image.tar
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
OUT="$ROOT/deploy/target/images"
BASE_TAR="$OUT/warmroute-jre-25.tar"
BASE_NAME="warmroute-jre:25"
IMAGE="warmroute:latest"
FROM=""
LOAD=0
BASE_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --base-image) FROM="$2"; shift 2 ;;
    --image) IMAGE="$2"; shift 2 ;;
    --load) LOAD=1; shift ;;
    --base-only) BASE_ONLY=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build-images: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

# Modules: java.se (the launcher's --add-modules java.se), the Vector API, what Hazelcast/Netty/protobuf reach
# through sun.misc.Unsafe (jdk.unsupported) and com.sun.management (jdk.management), the Prometheus endpoint
# (jdk.httpserver), DNS for Kubernetes discovery, and jcmd/jfr for looking into a running container.
MODULES="java.se,jdk.unsupported,jdk.incubator.vector,jdk.management,jdk.httpserver,jdk.naming.dns,jdk.jfr,jdk.jcmd,jdk.zipfs,jdk.net,jdk.crypto.ec"

JDK_NEEDS_JAVAC=1   # a full JDK: jlink comes with javac
# shellcheck source=../bin/lib/jdk.sh
. "$ROOT/bin/lib/jdk.sh"

build_base() {
  local busybox
  busybox="$(command -v busybox || true)"
  if [ -z "$busybox" ] || ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
    [ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked' && busybox=/bin/busybox || {
      echo "build-images: a statically linked busybox is needed for the image's shell (apt-get install busybox-static)" >&2
      exit 3; }
  fi
  local work="$OUT/base" rootfs="$OUT/base/rootfs"
  rm -rf "$work"; mkdir -p "$rootfs"
  echo "build-images: jlink ($MODULES)" >&2
  "$JDK/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files --compress=zip-6 \
    --generate-cds-archive --output "$rootfs/opt/java" 2> >(grep -v '^WARNING: Using incubator modules' >&2)

  # The shared libraries the runtime links (ldd of every binary and library), the dynamic loader, and
  # libgcc_s, which glibc loads at run time when a thread exits. GUI libraries of java.desktop (X11) are not
  # copied: the JVM runs headless.
  local f lib
  { find "$rootfs/opt/java" -type f \( -name '*.so' -o -path '*/bin/*' \) -print0 | while IFS= read -r -d '' f; do
      ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^[[:space:]]*\/[^ ]*ld-linux/{print $1}'
    done
    echo /lib64/ld-linux-x86-64.so.2
    for lib in /lib/x86_64-linux-gnu/libgcc_s.so.1 /usr/lib/x86_64-linux-gnu/libgcc_s.so.1; do [ -e "$lib" ] && echo "$lib"; done
  } | sort -u | while read -r lib; do
      mkdir -p "$rootfs$(dirname "$lib")"
      cp -L "$lib" "$rootfs$lib"
    done

  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/usr/local/bin" "$rootfs/app"
  chmod 1777 "$rootfs/tmp"
  cp "$busybox" "$rootfs/bin/busybox"
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/sh\n' > "$rootfs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' > "$rootfs/etc/group"
  printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
  mkdir -p "$rootfs/root" "$rootfs/home/nonroot"; chmod 700 "$rootfs/root"; chown 65532:65532 "$rootfs/home/nonroot" 2>/dev/null || true

  # docker-save layout by hand: layer tar, image config (env, diff id), manifest. Deterministic: sorted names,
  # fixed times and owners, so the same inputs give the same digest.
  local layer="$work/layer.tar"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$layer" .
  local diff_id; diff_id="$(sha256sum "$layer" | cut -d' ' -f1)"
  local img="$work/image"; mkdir -p "$img/$diff_id"
  mv "$layer" "$img/$diff_id/layer.tar"
  cat > "$img/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z",
 "config":{"Env":["PATH=/opt/java/bin:/usr/local/bin:/bin","JAVA_HOME=/opt/java","LANG=C.UTF-8"],"WorkingDir":"/",
           "Labels":{"org.opencontainers.image.title":"warmroute-jre","org.opencontainers.image.description":"jlink'ed JRE 25 for warmroute with busybox"}},
 "rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},
 "history":[{"created":"1970-01-01T00:00:00Z","created_by":"deploy/build-images.sh (jlink $MODULES)"}]}
JSON
  local config_id; config_id="$(sha256sum "$img/config.json" | cut -d' ' -f1)"
  mv "$img/config.json" "$img/$config_id.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]\n' "$config_id" "$BASE_NAME" "$diff_id" \
    > "$img/manifest.json"
  # Named entries, no "./": Jib refuses a tar entry that would unpack outside its folder.
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$img" -cf "$BASE_TAR" \
    manifest.json "$config_id.json" "$diff_id/layer.tar"
  rm -rf "$work"
  echo "build-images: base $BASE_NAME -> $BASE_TAR ($(du -h "$BASE_TAR" | cut -f1))" >&2
}

mkdir -p "$OUT"
if [ -z "$FROM" ]; then
  build_base
  FROM="tar://$BASE_TAR"
fi
if [ "$BASE_ONLY" = 1 ]; then
  [ "$LOAD" = 1 ] && docker load -i "$BASE_TAR"
  exit 0
fi

echo "build-images: jib buildTar from $FROM (maven log: $OUT/jib.log)" >&2
if ! (cd "$ROOT" && ./mvnw -B -ntp -Pimage -pl deploy -am package -DskipTests \
      -Djib.from.image="$FROM" -Djib.to.image="$IMAGE") > "$OUT/jib.log" 2>&1; then
  tail -30 "$OUT/jib.log" >&2
  echo "build-images: maven/jib failed; see $OUT/jib.log" >&2
  exit 4
fi
echo "build-images: image $IMAGE -> $ROOT/deploy/target/warmroute-image.tar" >&2

if [ "$LOAD" = 1 ]; then
  [ -f "$BASE_TAR" ] && [[ "$FROM" == tar://* ]] && docker load -i "$BASE_TAR"
  docker load -i "$ROOT/deploy/target/warmroute-image.tar"
fi
