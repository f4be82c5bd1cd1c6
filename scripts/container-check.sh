#!/usr/bin/env bash
# Build the Dockerfile with buildah and check the image the way a user meets it:
# /healthz, a paper page, a one-epoch demo run through the API, the HEALTHCHECK, the
# non-root user, CPU-only torch, no tests or virtualenv inside, the data volume, the size.
# Prints PASS/FAIL per check and exits non-zero when any check fails. Takes minutes.
#
#   sudo bash scripts/container-check.sh
#
# Runs as root with buildah (--storage-driver vfs, --isolation chroot), which works
# where no container engine runs; the image is then run with podman when podman can
# run containers here, else with `buildah run` on the host's network.
#
# Where the base image (python:3.11-slim) can't be pulled, a stand-in is built with
# debootstrap from Debian's packages (bookworm: python3.11, venv, pip, `python` ->
# python3.11) and passed as the Dockerfile's PYTHON_IMAGE. Where the host's pip is set
# up with mirrors (`pip config list`: find-links, index URLs, a constraint file, a CA
# bundle), the build mounts the local ones read-only and hands them to pip through
# PIP_EXTRA_ARGS, on the host's network; when a find-links folder holds the pinned
# CPU torch wheel, TORCH_INDEX_URL is set empty so torch comes from there.
#
# Settings (environment variables):
#   IMAGE=localhost/kd-notes:check  tag of the image to build and check
#   BUILD=1                 0: check IMAGE as it is, without building
#   BASE=auto               auto | pull | standin | an image name: where PYTHON_IMAGE
#                           comes from (auto: the official image if present or
#                           pullable, else the stand-in, built once and kept)
#   STANDIN_IMAGE=localhost/kd-python-standin:3.11-bookworm
#   REBUILD_STANDIN=0       1: rebuild the stand-in even when it exists
#   DEBIAN_MIRROR=          debootstrap's mirror (default: the host's apt source for
#                           bookworm, else debootstrap's own default)
#   PIP_MIRROR=auto         auto: use the host's pip configuration; none: the Dockerfile's
#   TORCH_INDEX_URL / PIP_EXTRA_ARGS  when set, passed to the build as they are
#   RUNNER=auto             auto | podman | buildah
#   PODMAN_NETWORK=slirp4netns   podman's network for the container (published on 127.0.0.1)
#   PODMAN_RUN_ARGS="--ulimit nofile=4096:4096 --ulimit nproc=4096:4096"
#                           podman's default rlimits can't be set inside some sandboxes
#   RUN_TIMEOUT=600         seconds the demo run may take
#   BUILD_TIMEOUT=3600  START_TIMEOUT=120
#   MAX_IMAGE_MB=2500       a bigger image fails (a CUDA torch build is several GB)
#   INSTALL=1               install missing tools with apt-get (buildah, debootstrap)
#   WORKDIR=/var/tmp/kd-container-check   logs, and the stand-in's root while it is built
#   KEEP_IMAGE=1            0: remove IMAGE at the end
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
REPO=$PWD

IMAGE=${IMAGE:-localhost/kd-notes:check}
BUILD=${BUILD:-1}
BASE=${BASE:-auto}
OFFICIAL_BASE=$(sed -n 's/^ARG PYTHON_IMAGE=//p' Dockerfile | head -n1)
STANDIN_IMAGE=${STANDIN_IMAGE:-localhost/kd-python-standin:3.11-bookworm}
REBUILD_STANDIN=${REBUILD_STANDIN:-0}
PIP_MIRROR=${PIP_MIRROR:-auto}
RUNNER=${RUNNER:-auto}
PODMAN_NETWORK=${PODMAN_NETWORK:-slirp4netns}
PODMAN_RUN_ARGS=${PODMAN_RUN_ARGS:---ulimit nofile=4096:4096 --ulimit nproc=4096:4096}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-3600}
START_TIMEOUT=${START_TIMEOUT:-120}
MAX_IMAGE_MB=${MAX_IMAGE_MB:-2500}
INSTALL=${INSTALL:-1}
WORKDIR=${WORKDIR:-/var/tmp/kd-container-check}
KEEP_IMAGE=${KEEP_IMAGE:-1}
PAPER_SLUG=${PAPER_SLUG:-1503.02531}
PAPER_TITLE=${PAPER_TITLE:-Distilling the Knowledge in a Neural Network}
IN_PORT=8080 # the port the app listens on inside the container, set through PORT

TORCH_PIN=$(grep -o 'torch==[0-9][0-9.]*' Dockerfile | head -n1 | cut -d= -f3)
RUN_ID=$$
NAME=kd-check-$RUN_ID
PASSES=0
FAILS=0
RESULTS=()
CTR=""       # podman container, or buildah working container
SERVER_PID="" # buildah runner: the `buildah run` process
TMP=""

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
pass() { PASSES=$((PASSES + 1)); RESULTS+=("PASS  $1${2:+ — $2}"); printf 'PASS  %s%s\n' "$1" "${2:+ — $2}"; }
fail() { FAILS=$((FAILS + 1)); RESULTS+=("FAIL  $1${2:+ — $2}"); printf 'FAIL  %s%s\n' "$1" "${2:+ — $2}"; }
die() { fail "$1" "$2"; summary; exit 1; }
BUILDAH=(buildah --storage-driver vfs)
PODMAN=(podman --storage-driver vfs --events-backend file) # --runtime is added once chosen
B() { "${BUILDAH[@]}" "$@"; }

summary() {
    echo
    echo "== summary: $PASSES passed, $FAILS failed (image $IMAGE) =="
    local line
    for line in "${RESULTS[@]}"; do echo "$line"; done
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$CTR" ]; then
        log "removing container $NAME"
        [ "$RUNNER" = buildah ] && stop_buildah_server
    fi
    # By name: a command cut short by its timeout may have left a container without
    # telling its id. Each removal is bounded.
    local name
    for name in "$NAME" "$NAME-contents"; do
        if command -v podman >/dev/null 2>&1 && timeout 30 "${PODMAN[@]}" container exists "$name" 2>/dev/null; then
            timeout 60 "${PODMAN[@]}" rm -f -t 5 "$name" >/dev/null 2>&1 || log "could not remove podman container $name"
        fi
        if timeout 30 "${BUILDAH[@]}" containers --noheading --format '{{.ContainerName}}' 2>/dev/null | grep -qx "$name"; then
            timeout 60 "${BUILDAH[@]}" rm "$name" >/dev/null 2>&1 || log "could not remove buildah container $name"
        fi
    done
    [ -n "$TMP" ] && rm -rf "$TMP"
    if [ "$KEEP_IMAGE" = 0 ] && [ "$BUILD" = 1 ]; then
        timeout 120 "${BUILDAH[@]}" rmi "$IMAGE" >/dev/null 2>&1 || true
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# --- tools ------------------------------------------------------------------------
need_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "container-check: run as root (buildah's vfs storage and chroot isolation)" >&2
        exit 2
    fi
}

ensure_pkg() { # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$INSTALL" = 1 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing $2 with apt-get"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"; } \
            >"$WORKDIR/apt-$2.log" 2>&1
    fi
    command -v "$1" >/dev/null 2>&1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- base image -------------------------------------------------------------------
host_debian_mirror() { # the host's apt URI for bookworm, if it has one
    python3 - <<'PY' 2>/dev/null
import glob, re
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in open(path).read().split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.split()
        if "bookworm" in fields.get("suites", []) and fields.get("uris") and \
                fields.get("enabled", ["yes"])[0] != "no":
            print(fields["uris"][0]); raise SystemExit
for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        m = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s", line + " ")
        if m:
            print(m.group(1)); raise SystemExit
PY
}

build_standin() {
    local rootfs="$WORKDIR/standin-rootfs" mirror ctr mnt
    ensure_pkg debootstrap debootstrap || die "base image" "debootstrap is missing"
    mirror=${DEBIAN_MIRROR:-$(host_debian_mirror)}
    log "building the stand-in base $STANDIN_IMAGE with debootstrap (bookworm${mirror:+ from $mirror})"
    rm -rf "$rootfs"
    if ! timeout 1200 debootstrap --variant=minbase \
        --include=python3.11,python3.11-venv,python3-venv,python3-pip,python-is-python3,ca-certificates \
        bookworm "$rootfs" ${mirror:+"$mirror"} >"$WORKDIR/debootstrap.log" 2>&1; then
        tail -n 20 "$WORKDIR/debootstrap.log" >&2
        rm -rf "$rootfs"
        die "base image" "debootstrap failed (log: $WORKDIR/debootstrap.log)"
    fi
    if ! chroot "$rootfs" python -c 'import sys, venv, ensurepip; assert sys.version_info[:2] == (3, 11)'; then
        rm -rf "$rootfs"
        die "base image" "the stand-in's python is not a working python3.11"
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/*
    ctr=$(B from scratch) && mnt=$(B mount "$ctr") &&
        tar -C "$rootfs" -cf - . | tar -C "$mnt" -xpf - &&
        B umount "$ctr" >/dev/null &&
        B config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            --env LANG=C.UTF-8 --cmd python3 \
            --label "org.opencontainers.image.description=stand-in for $OFFICIAL_BASE: Debian bookworm + python3.11" \
            "$ctr" &&
        B commit -q --format docker --rm "$ctr" "$STANDIN_IMAGE" >/dev/null
    local rc=$?
    rm -rf "$rootfs"
    [ $rc = 0 ] || die "base image" "could not turn the stand-in root into an image"
}

resolve_base() { # sets BASE_IMAGE
    case "$BASE" in
    auto | pull)
        if B inspect --type image "$OFFICIAL_BASE" >/dev/null 2>&1; then
            BASE_IMAGE=$OFFICIAL_BASE
            pass "base image" "$BASE_IMAGE (already in storage)"
            return
        fi
        if [ "$BASE" = auto ] && [ "$REBUILD_STANDIN" != 1 ] &&
            B inspect --type image "$STANDIN_IMAGE" >/dev/null 2>&1; then
            BASE_IMAGE=$STANDIN_IMAGE
            pass "base image" "$BASE_IMAGE (debootstrap stand-in for $OFFICIAL_BASE, built earlier)"
            return
        fi
        log "pulling $OFFICIAL_BASE (at most 90 s)"
        if timeout 90 "${BUILDAH[@]}" pull --retry 0 -q "$OFFICIAL_BASE" >"$WORKDIR/pull.log" 2>&1; then
            BASE_IMAGE=$OFFICIAL_BASE
            pass "base image" "$BASE_IMAGE (pulled)"
            return
        fi
        log "can't pull $OFFICIAL_BASE: $(tail -n1 "$WORKDIR/pull.log")"
        [ "$BASE" = pull ] && die "base image" "can't pull $OFFICIAL_BASE"
        build_standin
        BASE_IMAGE=$STANDIN_IMAGE
        pass "base image" "$BASE_IMAGE (debootstrap stand-in for $OFFICIAL_BASE, built now)"
        ;;
    standin)
        if [ "$REBUILD_STANDIN" = 1 ] || ! B inspect --type image "$STANDIN_IMAGE" >/dev/null 2>&1; then
            build_standin
        fi
        BASE_IMAGE=$STANDIN_IMAGE
        pass "base image" "$BASE_IMAGE (debootstrap stand-in for $OFFICIAL_BASE)"
        ;;
    *)
        B inspect --type image "$BASE" >/dev/null 2>&1 ||
            timeout 300 "${BUILDAH[@]}" pull -q "$BASE" >/dev/null 2>&1 ||
            die "base image" "$BASE is neither in storage nor pullable"
        BASE_IMAGE=$BASE
        pass "base image" "$BASE_IMAGE"
        ;;
    esac
}

# --- pip mirrors for the build ----------------------------------------------------
# Prints "MOUNT <path>" and "ARG <pip argument>" lines from the host's pip
# configuration; local paths are mounted read-only at the same place in the build.
pip_mirror_lines() {
    python3 -m pip config list 2>/dev/null | python3 -c '
import ast, os, sys
seen = set()
def out(line):
    if line not in seen:
        seen.add(line); print(line)
def local(value):
    return value[7:] if value.startswith("file://") else value if value.startswith("/") else None
for raw in sys.stdin:
    key, sep, value = raw.strip().partition("=")
    if not sep:
        continue
    section, _, name = key.rpartition(".")
    if section not in ("global", "install", ":env:"):
        continue
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        continue
    for item in value.split():
        path = local(item)
        if name == "find-links":
            if path and os.path.exists(path):
                out(f"MOUNT {path}"); out(f"ARG --find-links {path}")
            elif not path:
                out(f"ARG --find-links {item}")
        elif name in ("index-url", "extra-index-url"):
            if path:
                root = os.path.dirname(path.rstrip("/")) if os.path.basename(path.rstrip("/")) == "simple" else path
                if not os.path.isdir(root):
                    continue
                out(f"MOUNT {root}")
            out(f"ARG --{name} {item}")
        elif name in ("constraint", "cert") and path and os.path.isfile(path):
            out(f"MOUNT {path}"); out(f"ARG --{name} {path}")
'
}

# --- build ------------------------------------------------------------------------
build_image() {
    local args=() mounts=() extra="" line kind rest torch_url="__default__" cert=""
    if [ "$PIP_MIRROR" = auto ]; then
        while IFS= read -r line; do
            kind=${line%% *}
            rest=${line#* }
            case "$kind" in
            MOUNT) mounts+=(-v "$rest:$rest:ro") ;;
            ARG)
                extra+="${extra:+ }$rest"
                case "$rest" in --cert\ *) cert=${rest#--cert } ;; esac
                if [ "${rest%% *}" = --find-links ] &&
                    compgen -G "${rest#--find-links }/torch-${TORCH_PIN}+cpu-*.whl" >/dev/null; then
                    torch_url=""
                fi
                ;;
            esac
        done < <(pip_mirror_lines)
        # pip inside the build needs the host's CA bundle where HTTPS goes through a proxy.
        if [ -z "$cert" ] && [ -n "${SSL_CERT_FILE:-}" ] && [ -f "$SSL_CERT_FILE" ]; then
            mounts+=(-v "$SSL_CERT_FILE:$SSL_CERT_FILE:ro")
            extra+="${extra:+ }--cert $SSL_CERT_FILE"
        fi
    fi
    [ -n "${PIP_EXTRA_ARGS+x}" ] && extra=$PIP_EXTRA_ARGS
    [ -n "${TORCH_INDEX_URL+x}" ] && torch_url=$TORCH_INDEX_URL
    args+=(--build-arg "PYTHON_IMAGE=$BASE_IMAGE" --build-arg "PIP_EXTRA_ARGS=$extra")
    [ "$torch_url" != __default__ ] && args+=(--build-arg "TORCH_INDEX_URL=$torch_url")
    log "building $IMAGE from $BASE_IMAGE"
    log "  PIP_EXTRA_ARGS=$extra"
    log "  TORCH_INDEX_URL=$([ "$torch_url" = __default__ ] && echo "(the Dockerfile's default)" || echo "\"$torch_url\"")"
    [ ${#mounts[@]} -gt 0 ] && log "  read-only mounts: $(printf '%s ' "${mounts[@]}" | sed 's/-v //g')"
    local started=$SECONDS
    # Docker format: OCI images drop HEALTHCHECK.
    timeout "$BUILD_TIMEOUT" "${BUILDAH[@]}" bud --isolation chroot --network host \
        --format docker --pull=never "${mounts[@]}" "${args[@]}" -t "$IMAGE" -f Dockerfile . \
        >"$WORKDIR/build.log" 2>&1 &
    local bpid=$!
    # Show the build's steps as they come (the full log is in $WORKDIR/build.log).
    tail -n +1 -f --pid=$bpid "$WORKDIR/build.log" 2>/dev/null | grep --line-buffered -E '^(\[[0-9]+/[0-9]+\] )?STEP ' >&2
    wait $bpid
    local rc=$?
    if [ $rc != 0 ]; then
        tail -n 30 "$WORKDIR/build.log" >&2
        die "build" "buildah bud exited $rc after $((SECONDS - started)) s (log: $WORKDIR/build.log)"
    fi
    pass "build" "$IMAGE in $((SECONDS - started)) s"
}

# --- image metadata ---------------------------------------------------------------
inspect_image() { # prints PASS|FAIL<TAB>name<TAB>detail lines
    python3 - "$IMAGE_JSON_FILE" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
cfg = (d.get("Docker") or {}).get("config") or {}
oci = (d.get("OCIv1") or {}).get("config") or {}
hc = cfg.get("Healthcheck") or {}
test = hc.get("Test") or []
user = cfg.get("User") or oci.get("User") or ""
vols = sorted((cfg.get("Volumes") or oci.get("Volumes") or {}).keys())
env = dict(e.split("=", 1) for e in (cfg.get("Env") or oci.get("Env") or []))
def say(ok, name, detail):
    print(f"{'PASS' if ok else 'FAIL'}\t{name}\t{detail}")
say(bool(test) and "healthz" in " ".join(test), "HEALTHCHECK in the image",
    f"every {hc.get('Interval', 0) // 10**9}s: {' '.join(test[1:])[:90]}" if test else "none (built as OCI?)")
say(user not in ("", "root", "0", "0:0"), "image user is not root", f"USER {user or '(unset)'}")
say(vols == ["/data", "/srv/notes"], "notes and data are volumes", " ".join(vols) or "none")
want = ["NOTES_DIR", "DATA_DIR", "HOST", "PORT"]
say(all(k in env for k in want), "settings by environment",
    " ".join(f"{k}={env.get(k, '?')}" for k in want))
PY
}

report_lines() { # EXPECTED WHAT: PASS|FAIL<TAB>name<TAB>detail lines on stdin -> pass/fail
    local expected=$1 what=$2 seen=0 verdict name detail
    while IFS=$'\t' read -r verdict name detail; do
        case "$verdict" in
        PASS) pass "$name" "$detail"; seen=$((seen + 1)) ;;
        FAIL) fail "$name" "$detail"; seen=$((seen + 1)) ;;
        *) [ -n "$verdict$name" ] && log "  $verdict $name $detail" ;;
        esac
    done
    [ "$seen" -ge "$expected" ] || fail "$what" "only $seen of $expected checks reported (see the lines above)"
}

size_mb() { # image -> its uncompressed size in MB, as buildah reports it ("1.23 GB")
    B images --json "$1" 2>/dev/null | python3 -c '
import json, sys
size, unit = json.load(sys.stdin)[0]["size"].split()
print(round(float(size) * {"B": 1e-6, "kB": 1e-3, "KB": 1e-3, "MB": 1, "GB": 1e3, "TB": 1e6}[unit]))' 2>/dev/null
}

image_size() {
    local mb base_mb=""
    mb=$(size_mb "$IMAGE")
    if [ -z "$mb" ]; then
        fail "image size" "could not read it"
        return
    fi
    [ -n "${BASE_IMAGE:-}" ] && base_mb=$(size_mb "$BASE_IMAGE") && [ -n "$base_mb" ] &&
        base_mb=" (base image $BASE_IMAGE: $base_mb MB)"
    if [ "$mb" -le "$MAX_IMAGE_MB" ]; then
        pass "image size" "$mb MB uncompressed$base_mb, limit $MAX_IMAGE_MB MB"
    else
        fail "image size" "$mb MB uncompressed$base_mb, over the limit of $MAX_IMAGE_MB MB"
    fi
}

# Python run inside the image: what it contains.
CONTENT_CHECK='
import importlib.metadata as md, os, sys
def say(ok, name, detail):
    print("PASS" if ok else "FAIL", name, detail, sep="\t")
present = [p for p in ("/srv/tests", "/srv/.venv", "/srv/.git", "/srv/bench", "/srv/data", "/srv/.env") if os.path.exists(p)]
say(not present, "no tests, .venv, .git, data or .env in the image", " ".join(present) or "/srv holds " + " ".join(sorted(os.listdir("/srv"))))
import torch
nvidia = sorted(d.metadata["Name"] for d in md.distributions() if (d.metadata["Name"] or "").lower().startswith(("nvidia", "triton")))
say(torch.version.cuda is None and not nvidia, "CPU-only torch", f"torch {torch.__version__}, cuda {torch.version.cuda}, {len(nvidia)} nvidia/triton packages")
'

# --- running the image ------------------------------------------------------------
podman_works() { # runs the content check in a podman container; 0 when the container ran
    rm -f "$WORKDIR/podman-probe.log"
    command -v podman >/dev/null 2>&1 || return 1
    # crun can't run where cgroups are mounted in hybrid mode; runc can.
    if [ -z "${PODMAN_RUNTIME:-}" ] && command -v runc >/dev/null 2>&1; then PODMAN_RUNTIME=runc; fi
    [ -n "${PODMAN_RUNTIME:-}" ] && PODMAN+=(--runtime "$PODMAN_RUNTIME")
    # shellcheck disable=SC2086
    timeout 300 "${PODMAN[@]}" \
        run --rm --name "$NAME-contents" --pull never --no-healthcheck $PODMAN_RUN_ARGS --network none \
        "$IMAGE" python -c "$CONTENT_CHECK" >"$TMP/contents.out" 2>&1
    cp "$TMP/contents.out" "$WORKDIR/podman-probe.log"
    grep -qE '^(PASS|FAIL)'$'\t' "$TMP/contents.out"
}

pick_runner() {
    case "$RUNNER" in
    podman)
        podman_works || die "runner" "podman can't run $IMAGE here: $(tail -n1 "$WORKDIR/podman-probe.log")"
        ;;
    buildah) ;;
    auto)
        if podman_works; then
            RUNNER=podman
        else
            [ -f "$WORKDIR/podman-probe.log" ] && log "podman can't run containers here ($(tail -n1 "$WORKDIR/podman-probe.log")); using buildah run"
            RUNNER=buildah
        fi
        ;;
    *) die "runner" "RUNNER must be auto, podman or buildah" ;;
    esac
    log "running the image with $RUNNER$([ "$RUNNER" = podman ] && [ -n "${PODMAN_RUNTIME:-}" ] && echo " (runtime $PODMAN_RUNTIME)")"
}

content_output() {
    if [ "$RUNNER" = podman ]; then
        cat "$TMP/contents.out"
    else
        local ctr
        ctr=$(B from --pull=never --name "$NAME-contents" "$IMAGE") || return 1
        timeout 300 "${BUILDAH[@]}" run --isolation chroot "$ctr" -- python -c "$CONTENT_CHECK" 2>&1
        B rm "$ctr" >/dev/null 2>&1
    fi
}

start_container() { # sets CTR and BASE_URL
    local hport data="$TMP/data"
    mkdir -p "$data"
    chown 10001:10001 "$data" 2>/dev/null || true # the image's kd user
    hport=$(free_port)
    BASE_URL="http://127.0.0.1:$hport"
    PORT_IN_USE=$([ "$RUNNER" = podman ] && echo "$IN_PORT" || echo "$hport")
    if [ "$RUNNER" = podman ]; then
        # shellcheck disable=SC2086
        CTR=$(timeout 120 "${PODMAN[@]}" \
            run -d --name "$NAME" --pull never $PODMAN_RUN_ARGS --log-driver k8s-file \
            --network "$PODMAN_NETWORK" -p "127.0.0.1:$hport:$IN_PORT" \
            -e PORT=$IN_PORT -v "$data:/data" "$IMAGE" 2>"$WORKDIR/run.err") ||
            die "container start" "podman run failed: $(tail -n2 "$WORKDIR/run.err")"
        log "container $NAME ($CTR) on $BASE_URL"
    else
        CTR=$(B from --pull=never --name "$NAME" "$IMAGE") || die "container start" "buildah from failed"
        # chroot isolation shares the host's network: listen on loopback only.
        "${BUILDAH[@]}" run --isolation chroot --network host \
            --env HOST=127.0.0.1 --env PORT=$hport \
            -v "$data:/data" "$CTR" -- python -m app serve >"$WORKDIR/server.log" 2>&1 &
        SERVER_PID=$!
        log "buildah container $NAME (buildah run pid $SERVER_PID) on $BASE_URL"
    fi
    DATA_HOST_DIR=$data
}

server_logs() {
    if [ "$RUNNER" = podman ]; then
        timeout 30 "${PODMAN[@]}" logs --tail 40 "$CTR" 2>&1
    else
        tail -n 40 "$WORKDIR/server.log"
    fi
}

listening_pid() { # host pid listening on the buildah runner's port
    local port=${BASE_URL##*:}
    ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2
}

stop_buildah_server() {
    local pid
    pid=$(listening_pid)
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 20); do
        { [ -z "$SERVER_PID" ] || ! kill -0 "$SERVER_PID" 2>/dev/null; } && break
        sleep 0.5
    done
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    [ -n "$SERVER_PID" ] && kill -KILL "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}

http() { # METHOD PATH [JSON body] -> prints "<status>" and leaves the body in $TMP/body
    local method=$1 path=$2 body=${3:-}
    if [ -n "$body" ]; then
        curl -sS -m 15 -o "$TMP/body" -w '%{http_code}' -X "$method" \
            -H 'Content-Type: application/json' --data "$body" "$BASE_URL$path" 2>/dev/null
    else
        curl -sS -m 15 -o "$TMP/body" -w '%{http_code}' -X "$method" "$BASE_URL$path" 2>/dev/null
    fi
}

json_field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$TMP/body" "$1" 2>/dev/null; }

check_healthz() {
    local started=$SECONDS code=""
    while [ $((SECONDS - started)) -lt "$START_TIMEOUT" ]; do
        code=$(http GET /healthz) && [ "$code" = 200 ] && break
        if [ "$RUNNER" = buildah ] && ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
        sleep 1
    done
    if [ "$code" = 200 ]; then
        pass "/healthz" "200 after $((SECONDS - started)) s on PORT=$PORT_IN_USE from the environment: $(tr -d '\n' <"$TMP/body" | head -c 120)"
    else
        server_logs >&2
        die "/healthz" "no 200 within $START_TIMEOUT s (last: ${code:-no answer})"
    fi
}

check_paper() {
    local code
    code=$(http GET "/papers/$PAPER_SLUG")
    if [ "$code" = 200 ] && grep -qF "$PAPER_TITLE" "$TMP/body"; then
        pass "paper page" "/papers/$PAPER_SLUG 200 with \"$PAPER_TITLE\" ($(wc -c <"$TMP/body") bytes)"
    else
        fail "paper page" "/papers/$PAPER_SLUG answered ${code:-nothing}$([ "$code" = 200 ] && echo ", without the title")"
    fi
}

check_user() {
    local uid
    if [ "$RUNNER" = podman ]; then
        uid=$(timeout 30 "${PODMAN[@]}" exec "$CTR" sh -c 'awk "/^Uid:/ {print \$2}" /proc/1/status' 2>/dev/null)
    else
        local pid
        pid=$(listening_pid)
        [ -n "$pid" ] && uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    fi
    if [ -n "$uid" ] && [ "$uid" != 0 ]; then
        pass "server runs as non-root" "uid $uid ($([ "$RUNNER" = podman ] && echo "pid 1 in the container" || echo "the listening process"))"
    else
        fail "server runs as non-root" "uid ${uid:-unknown}"
    fi
}

check_healthcheck_cmd() {
    if [ "$RUNNER" = podman ]; then
        # Run once by hand: podman's timers need systemd, which a sandbox may lack.
        local out state
        out=$(timeout 60 "${PODMAN[@]}" \
            healthcheck run "$CTR" 2>/dev/null)
        local rc=$?
        state=$(timeout 30 "${PODMAN[@]}" inspect --format '{{.State.Health.Status}}' "$CTR" 2>/dev/null)
        if [ $rc = 0 ]; then
            pass "HEALTHCHECK command" "podman healthcheck run: exit 0, status ${state:-?}"
        else
            fail "HEALTHCHECK command" "podman healthcheck run: exit $rc ${out}, status ${state:-?}"
        fi
        return
    fi
    # buildah: run the image's healthcheck command in the container, on the host's network.
    local cmd
    cmd=$(python3 -c '
import json, shlex, sys
t = json.load(open(sys.argv[1]))["Docker"]["config"]["Healthcheck"]["Test"]
print(t[1] if t[0] == "CMD-SHELL" else shlex.join(t[1:]))' "$IMAGE_JSON_FILE" 2>/dev/null)
    if [ -n "$cmd" ] && timeout 60 "${BUILDAH[@]}" run --isolation chroot --network host \
        --env PORT="${BASE_URL##*:}" "$CTR" -- sh -c "$cmd" >/dev/null 2>&1; then
        pass "HEALTHCHECK command" "exits 0 against the running server"
    else
        fail "HEALTHCHECK command" "failed: ${cmd:-no healthcheck}"
    fi
}

check_demo_run() {
    local code id status="" started body='{"method":"kd","params":{"epochs":1,"teacher_epochs":1,"train_fraction":0.1}}'
    code=$(http POST /api/runs "$body")
    id=$(json_field id)
    if [ "$code" != 202 ] || [ -z "$id" ]; then
        fail "demo run" "POST /api/runs answered ${code:-nothing}: $(head -c 300 "$TMP/body" 2>/dev/null)"
        return
    fi
    pass "demo run accepted" "POST /api/runs 202, run $id"
    started=$SECONDS
    while [ $((SECONDS - started)) -lt "$RUN_TIMEOUT" ]; do
        code=$(http GET "/api/runs/$id")
        [ "$code" = 200 ] && status=$(json_field status)
        case "$status" in succeeded | failed | cancelled) break ;; esac
        sleep 2
    done
    if [ "$status" = succeeded ]; then
        local summary
        summary=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d.get("summary") or {}
print(", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in list(s.items())[:4]))' "$TMP/body" 2>/dev/null)
        pass "demo run (kd, 1 epoch)" "succeeded in $((SECONDS - started)) s${summary:+: $summary}"
    else
        head -c 1000 "$TMP/body" >&2
        echo >&2
        server_logs >&2
        fail "demo run (kd, 1 epoch)" "status ${status:-unknown} after $((SECONDS - started)) s (limit $RUN_TIMEOUT s)"
    fi
}

check_data_volume() {
    local db="$DATA_HOST_DIR/runs.sqlite3"
    if [ -s "$db" ]; then
        pass "data volume" "/data is the host folder: runs.sqlite3 there, owner uid $(stat -c %u "$db"), $(ls "$DATA_HOST_DIR" | wc -l) entries"
    else
        fail "data volume" "no runs.sqlite3 in the folder mounted at /data"
    fi
}

# --- main -------------------------------------------------------------------------
main() {
    need_root
    mkdir -p "$WORKDIR"
    TMP=$(mktemp -d "$WORKDIR/run.XXXXXX")
    chmod 755 "$TMP"
    log "container check of $REPO (logs in $WORKDIR)"
    ensure_pkg buildah buildah || die "tools" "buildah is missing and could not be installed"
    command -v curl >/dev/null || die "tools" "curl is missing"

    if [ "$BUILD" = 1 ]; then
        resolve_base
        build_image
    else
        BASE_IMAGE=""
    fi
    IMAGE_JSON_FILE="$TMP/image.json"
    B inspect --type image "$IMAGE" >"$IMAGE_JSON_FILE" 2>/dev/null || die "image" "$IMAGE is not in storage"
    report_lines 4 "image metadata" < <(inspect_image)
    image_size
    pick_runner
    report_lines 2 "image contents" < <(content_output)
    start_container
    check_healthz
    check_paper
    check_user
    check_healthcheck_cmd
    check_demo_run
    check_data_volume
    summary
    [ "$FAILS" = 0 ]
}

# One line, and all of it inside main: bash has parsed the whole script before it runs,
# so an edit of this file during a run can't derail it.
main "$@"; exit $?
