#!/usr/bin/env bash
# Prove the TensorFlow-free runtime on 64-bit Arm (aarch64, what 64-bit Raspberry Pi OS runs) from an
# x86-64 Debian machine, by emulation:
#
#   1. installs qemu-user-static, debootstrap and binfmt-support from Debian (if missing);
#   2. builds an arm64 Debian root with Python 3 (debootstrap --foreign + second stage under qemu),
#      cached in $INKCAST_AARCH64_ROOT (default /var/tmp/inkcast-aarch64) so reruns take seconds;
#   3. builds the inkcast wheel from the working tree and downloads the aarch64 wheels of its
#      runtime dependencies (numpy, ai-edge-litert, onnxruntime) plus pytest from PyPI;
#   4. installs `inkcast[tflite,onnx]` into a venv inside the root with the root's own pip (no
#      TensorFlow), and the same wheel and versions into an x86-64 reference venv;
#   5. runs the test suite in both (tests that need the train extra are reported as skipped; the
#      suite's bundle is trained once on the host, see INKCAST_DEV_PYTHON): a test that fails on
#      aarch64 but passes on x86-64 fails the check, one failing on both is reported as a warning
#      (--strict-tests makes it fail the check too);
#   6. recognizes the same real Quick, Draw! drawings (test split) with every variant of the bundle
#      on both and compares: same top-1 on every drawing, every probability within --atol (1e-4
#      for float32; integer outputs allow one quantization step). Exits non-zero on any difference.
#      The ONNX int8 variants must be exported with 7-bit-range weights (export/quantize.py,
#      reduce_range): with 8-bit weights ORT saturates on x86-64 without VNNI and they differ by up
#      to 0.23. Even then they are not bit-exact everywhere: their DynamicQuantizeLSTM quantizes the
#      hidden state at every step, and last-bit float differences between the two builds can flip one
#      code. With the default sample (40 per category) the worst is 9e-5; with --per-category 400,
#      1 drawing in 1,963 per variant exceeds 1e-4 (same top-1). See docs/QUANTIZATION.md.
#
# Usage: sudo scripts/check-aarch64.sh [--bundle DIR] [--variants all|float32|NAME,...] [--per-category N]
#                                      [--atol X] [--mode auto|chroot|proot]
#                                      [--skip-tests] [--strict-tests] [--tests "tests/test_runtime.py ..."]
#                                      [--rebuild-root]
# The emulated suite is the slow part (28 minutes on 2 busy cores, measured); --tests picks files,
# --skip-tests leaves it out (the recognition comparison alone takes 1-2 minutes for 8 variants).
# Environment: INKCAST_AARCH64_ROOT (work dir), INKCAST_BUNDLE, INKCAST_DATA (folder holding quickdraw/),
#   INKCAST_DEV_PYTHON (a Python with the repo installed with the train extra, used to build the
#   test suite's cached bundle; default: the python3 on PATH), DEBIAN_MIRROR, PYTHON (host python3).
#
# Modes: `chroot` runs the root's programs with chroot(8), relying on the kernel's binfmt_misc to
# hand aarch64 ELF files to qemu-aarch64-static (registered with the F flag by binfmt-support, so
# child processes such as pip's and the tests' subprocesses work too); this is what works in the
# inkcast dev sandbox (a Docker container in a VM, running as root). `proot` is the fallback where
# binfmt_misc cannot be mounted or registered: Debian's proot with `-q qemu-aarch64-static`
# emulates every process it starts and hides the host's /proc and /sys; the root is then made by
# unpacking the downloaded .debs with dpkg-deb (no second stage). `auto` picks chroot when it
# works. Not used: plain `qemu-aarch64-static -L ROOT ROOT/usr/bin/python3` runs Python but
# segfaults when onnxruntime or LiteRT starts, because their cpuinfo library reads the x86 host's
# /sys/devices/system/cpu through the -L prefix, and it cannot start child processes.
set -euo pipefail

# Everything runs inside main(), which bash reads whole before running: editing this file while a
# (long) check runs cannot derail it.
main() {
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${INKCAST_AARCH64_ROOT:-/var/tmp/inkcast-aarch64}
ROOT=$WORK/root
SUITE=bookworm                     # Raspberry Pi OS 12 is bookworm: Python 3.11, glibc 2.36
BUNDLE=${INKCAST_BUNDLE:-/work/bundles/sketch-small}   # --bundle
DATA=${INKCAST_DATA:-$REPO/../shared/data}
PER_CATEGORY=40
ATOL=1e-4
MODE=${INKCAST_AARCH64_MODE:-auto}
RUN_TESTS=1
STRICT_TESTS=0
TESTS=tests                        # --tests: test files/folders (relative to the repo) for both runs
VARIANTS=all                       # --variants: all, float32, or manifest names separated by commas
REBUILD=0
HOST_PY=${PYTHON:-python3}
DEV_PY=${INKCAST_DEV_PYTHON:-python3}
# manylinux tags a bookworm/Pi OS 12 aarch64 Python accepts (glibc 2.36); pip does not widen them itself.
PLATFORMS=(manylinux2014_aarch64)
for v in $(seq 17 36); do PLATFORMS+=("manylinux_2_${v}_aarch64"); done

while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) BUNDLE=$2; shift 2 ;;
    --per-category) PER_CATEGORY=$2; shift 2 ;;
    --atol) ATOL=$2; shift 2 ;;
    --mode) MODE=$2; shift 2 ;;
    --skip-tests) RUN_TESTS=0; shift ;;
    --strict-tests) STRICT_TESTS=1; shift ;;
    --tests) TESTS=$2; shift 2 ;;
    --variants) VARIANTS=$2; shift 2 ;;
    --rebuild-root) REBUILD=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "check-aarch64: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

T_START=$(date +%s)
say() { printf '\n== %s\n' "$*"; }
die() { printf '\ncheck-aarch64: FAILED: %s\n' "$*" >&2; exit 1; }
SUMMARY=()
note() { SUMMARY+=("$*"); }

# ---------------------------------------------------------------- preflight
[ "$(uname -m)" = x86_64 ] || die "run this on an x86-64 machine (this one is $(uname -m)); on a Pi run scripts/recognize_dump.py directly"
[ "$(id -u)" = 0 ] || die "needs root (apt-get, debootstrap, chroot): run it with sudo"
case "$MODE" in auto|chroot|proot) ;; *) die "--mode must be auto, chroot or proot" ;; esac
[ -f "$BUNDLE/manifest.json" ] || die "$BUNDLE: no bundle there (no manifest.json); pass --bundle DIR"
[ -d "$DATA/quickdraw" ] || die "$DATA/quickdraw: no Quick, Draw! data (set INKCAST_DATA to the folder holding quickdraw/)"
command -v "$HOST_PY" >/dev/null || die "no host Python ($HOST_PY); set PYTHON"
mkdir -p "$WORK"
case "$(cd "$WORK" && pwd)/" in "$REPO"/*) die "INKCAST_AARCH64_ROOT must be outside the repository" ;; esac

# ---------------------------------------------------------------- 1. host tools
say "1/6 host tools"
need=()
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v update-binfmts >/dev/null || need+=(binfmt-support)
[ "$MODE" != proot ] || command -v proot >/dev/null || need+=(proot)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
QEMU=$(command -v qemu-aarch64-static)
echo "$("$QEMU" --version | head -1)"

binfmt_ok() {
  [ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || return 1
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || return 1
  fi
  grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null
}
if [ "$MODE" != proot ]; then
  if binfmt_ok && chroot / /bin/true 2>/dev/null; then
    echo "binfmt_misc: qemu-aarch64 registered ($(grep flags /proc/sys/fs/binfmt_misc/qemu-aarch64))"
    MODE=chroot
  elif [ "$MODE" = chroot ]; then
    die "chroot or binfmt_misc is not available here (cannot chroot, or mount binfmt_misc, or register qemu-aarch64): use --mode proot"
  else
    echo "chroot + binfmt_misc is not available here: falling back to proot -q qemu-aarch64-static (mode proot)"
    MODE=proot
    command -v proot >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq proot >/dev/null; }
  fi
fi

# ---------------------------------------------------------------- 2. the arm64 root
say "2/6 arm64 Debian $SUITE root in $ROOT"
mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  # the Debian mirror this machine's apt uses (deb822 .sources or one-line .list)
  local m
  m=$(grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -E '/debian/?$' | head -1 || true)
  [ -n "$m" ] || m=$(grep -hE '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
                     | awk '{for(i=2;i<=NF;i++) if($i ~ /^(http|https|file):/){print $i; exit}}' | grep -E '/debian/?$' | head -1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}
if [ "$REBUILD" = 1 ]; then rm -rf "$ROOT"; fi
if [ "$MODE" = chroot ] && [ -f "$ROOT/.inkcast-root-ok" ] && [ "$(cat "$ROOT/.inkcast-root-ok")" != chroot ]; then
  echo "the cached root was only unpacked (mode proot); making it again with debootstrap's second stage"
  rm -rf "$ROOT"
fi
if [ ! -f "$ROOT/.inkcast-root-ok" ]; then
  rm -rf "$ROOT"
  M=$(mirror)
  echo "debootstrap --arch=arm64 --foreign --variant=minbase --include=python3,python3-venv $SUITE from $M"
  debootstrap --arch=arm64 --foreign --variant=minbase --include=python3,python3-venv \
    "$SUITE" "$ROOT" "$M" > "$WORK/debootstrap-1.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap-1.log"; die "debootstrap (first stage) failed; log: $WORK/debootstrap-1.log"; }
  cp "$QEMU" "$ROOT/usr/bin/"   # for binfmt registrations without the F flag
  if [ "$MODE" = chroot ]; then
    echo "second stage under qemu (about 10 minutes the first time)"
    chroot "$ROOT" /debootstrap/debootstrap --second-stage > "$WORK/debootstrap-2.log" 2>&1 \
      || { tail -20 "$WORK/debootstrap-2.log"; die "debootstrap --second-stage failed; log: $WORK/debootstrap-2.log"; }
  else
    echo "mode proot: unpacking the downloaded packages with dpkg-deb (no second stage, no maintainer scripts)"
    for deb in "$ROOT"/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
  fi
  echo "$MODE" > "$ROOT/.inkcast-root-ok"
else
  echo "cached (delete $ROOT or pass --rebuild-root to make it again)"
fi

# run a command in the aarch64 world: chroot, or qemu -L with host paths
ARM_ENV=()
# chroot mode: each command gets /proc (as on a Pi: /proc/self/status etc.) in a private mount
# namespace, so nothing stays mounted after it. Not /sys: the x86 host's CPU topology there makes
# the cpuinfo library inside onnxruntime and LiteRT crash under emulation.
PROC_NS=0
if [ "$MODE" = chroot ] && unshare -m --propagation private true 2>/dev/null; then PROC_NS=1; fi
in_arm() {  # run an aarch64 command inside the root, with a clean environment
  if [ "$MODE" = chroot ] && [ "$PROC_NS" = 1 ]; then
    unshare -m --propagation private /bin/sh -c 'r=$1; shift; mount -t proc proc "$r/proc" && exec chroot "$r" "$@"' \
      sh "$ROOT" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 "${ARM_ENV[@]}" "$@"
  elif [ "$MODE" = chroot ]; then
    chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 "${ARM_ENV[@]}" "$@"
  else
    proot -q "$QEMU" -r "$ROOT" -w / /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 "${ARM_ENV[@]}" "$@"
  fi
}
A=/opt/inkcast                      # the work folder inside the root
P=$A; PY3=/usr/bin/python3
PYV=$(in_arm "$PY3" -c 'import platform,sys; print(platform.machine(), platform.python_version())') \
  || die "cannot run the root's python3 under qemu"
echo "aarch64 Python: $PYV"
case "$PYV" in aarch64\ 3.11.*) ;; *) die "expected aarch64 Python 3.11 in the root, got: $PYV" ;; esac

# ---------------------------------------------------------------- 3. wheels
say "3/6 wheels: inkcast from the working tree, runtime dependencies for aarch64 (cp311)"
SRC=$WORK/src; DIST=$WORK/dist; WH=$WORK/wheels-aarch64
rm -rf "$SRC" "$DIST"; mkdir -p "$SRC" "$DIST" "$WH"
# a copy of the working tree (tracked and untracked, minus ignored), so the build never writes into it
(cd "$REPO" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$SRC"
"$HOST_PY" -m pip wheel -q --no-deps -w "$DIST" "$SRC" > "$WORK/wheel-build.log" 2>&1 \
  || { tail -20 "$WORK/wheel-build.log"; die "building the inkcast wheel failed"; }
WHEEL=$(ls "$DIST"/inkcast-*.whl)
echo "built $(basename "$WHEEL")"
PLAT_ARGS=(); for p in "${PLATFORMS[@]}"; do PLAT_ARGS+=(--platform "$p"); done
DL=("$HOST_PY" -m pip download -q --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 "${PLAT_ARGS[@]}" -d "$WH")
EXTRAS=()
for dep in numpy ai-edge-litert onnxruntime; do
  if "${DL[@]}" --no-deps "$dep" > "$WORK/download-$dep.log" 2>&1; then
    f=$(cd "$WH" && ls -t "$(echo "$dep" | tr - _)"-*.whl | head -1)
    echo "  aarch64 wheel: $f"
    note "aarch64 wheel on PyPI: $f"
    case "$dep" in ai-edge-litert) EXTRAS+=(tflite) ;; onnxruntime) EXTRAS+=(onnx) ;; esac
  else
    echo "  NO aarch64 cp311 wheel for $dep (see $WORK/download-$dep.log)"
    note "NO aarch64 cp311 wheel for $dep"
  fi
done
[ ${#EXTRAS[@]} -gt 0 ] || die "neither ai-edge-litert nor onnxruntime has an aarch64 wheel: nothing can run"
EXTRA=$(IFS=,; echo "${EXTRAS[*]}")
rm -f "$WH"/inkcast-*.whl
"${DL[@]}" "inkcast[$EXTRA] @ file://$WHEEL" pytest > "$WORK/download.log" 2>&1 \
  || { tail -20 "$WORK/download.log"; die "pip download of the aarch64 dependencies failed"; }
# the exact versions resolved for aarch64 (newest wheel of each name), reused for the x86-64 reference
CONSTRAINTS=$WORK/aarch64-versions.txt
(cd "$WH" && ls *.whl | grep -v '^inkcast-' | sed -E 's/^([^-]+)-([^-]+)-.*/\1==\2/' | sort -t= -k1,1 -k3V | awk -F== '{v[$1]=$0} END {for (k in v) print v[k]}' | sort) > "$CONSTRAINTS"
echo "  resolved: $(tr '\n' ' ' < "$CONSTRAINTS")"
if [ -z "$(find "$WH" -iname 'tensorflow*' -o -iname 'tf_keras*' | head -1)" ]; then echo "  no TensorFlow among them"; else die "a TensorFlow wheel was pulled in: $(ls "$WH" | grep -i tensorflow)"; fi

# ---------------------------------------------------------------- 4. install into the root
say "4/6 install inkcast[$EXTRA] into the aarch64 root"
rm -rf "$ROOT$A/bundle" "$ROOT$A/tests" "$ROOT$A/src" "$ROOT$A/wheels" "$ROOT$A/data"
mkdir -p "$ROOT$A"
cp -r "$BUNDLE" "$ROOT$A/bundle"
cp -r "$WH" "$ROOT$A/wheels"; cp "$WHEEL" "$ROOT$A/wheels/"
cp "$REPO/scripts/recognize_dump.py" "$REPO/scripts/pytest_no_tensorflow.py" "$ROOT$A/"
# The suite's data (quickdraw, ridership: about 10 MB) and, below, its cached bundle sit at the same
# absolute paths inside the root as on the host, so both test runs see identical paths.
DATA=$(cd "$DATA" && pwd -P)
rm -rf "$ROOT$DATA"; mkdir -p "$(dirname "$ROOT$DATA")"; cp -r "$DATA" "$ROOT$DATA"
CACHE=$WORK/test-cache
ARM_ENV=(INKCAST_DATA=$DATA INKCAST_TEST_CACHE=$CACHE)
t0=$(date +%s)
PY=$A/venv/bin/python
stamp=$(cd "$WH" && ls | sort | sha256sum | cut -c1-16)
if [ ! -x "$ROOT$PY" ] || [ "$(cat "$ROOT$A/venv/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$ROOT$A/venv"
  in_arm "$PY3" -m venv $A/venv || die "python3 -m venv failed in the root"
  echo "$stamp" > "$ROOT$A/venv/.stamp"
fi
# what a Pi user runs, offline: pip install "inkcast[tflite,onnx]" (inkcast itself reinstalled every run)
in_arm "$PY" -m pip install -q --disable-pip-version-check --no-index --find-links $A/wheels \
    --force-reinstall --no-deps "$A/wheels/$(basename "$WHEEL")" > "$WORK/install.log" 2>&1 \
  && in_arm "$PY" -m pip install -q --disable-pip-version-check --no-index --find-links $A/wheels \
    "inkcast[$EXTRA]" pytest >> "$WORK/install.log" 2>&1 \
  || { tail -20 "$WORK/install.log"; die "pip install inside the aarch64 root failed"; }
SITE=$(in_arm "$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "installed in $(( $(date +%s) - t0 )) s; site-packages $(du -sh "$ROOT$SITE" | cut -f1)"
if find "$ROOT$SITE" -maxdepth 1 -iname 'tensorflow*' | grep -q .; then die "TensorFlow was installed in the root"; fi
in_arm "$PY" -c 'import platform, numpy, inkcast.runtime as r; print("import ok:", platform.machine(), "numpy", numpy.__version__)' \
  || die "inkcast.runtime does not import on aarch64"

# ---------------------------------------------------------------- 5. the test suite, aarch64 and x86-64
# The x86-64 reference: a venv with the same wheel and the same dependency versions as the root.
XV=$WORK/x86-venv
xstamp=$( (cat "$CONSTRAINTS"; "$HOST_PY" -V) | sha256sum | cut -c1-16)
if [ ! -x "$XV/bin/python" ] || [ "$(cat "$XV/.stamp" 2>/dev/null)" != "$xstamp" ]; then
  rm -rf "$XV"; "$HOST_PY" -m venv "$XV"; echo "$xstamp" > "$XV/.stamp"
fi
"$XV/bin/python" -m pip install -q --disable-pip-version-check -c "$CONSTRAINTS" "inkcast[$EXTRA] @ file://$WHEEL" pytest > "$WORK/x86-install.log" 2>&1 \
  && "$XV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$WHEEL" >> "$WORK/x86-install.log" 2>&1 \
  || { tail -20 "$WORK/x86-install.log"; die "installing the x86-64 reference venv (same versions as aarch64) failed"; }

TESTS_RESULT="not run (--skip-tests)"
if [ "$RUN_TESTS" = 1 ]; then
  say "5/6 test suite on aarch64, and on x86-64 with the same runtime-only install (tests needing the train extra are skipped)"
  # The suite's session fixture trains and exports a small bundle with TensorFlow; build it once
  # on the host (INKCAST_TEST_CACHE, see tests/conftest.py) so both runs below only use it.
  if [ ! -f "$CACHE/sketch-bundle/manifest.json" ]; then
    if "$DEV_PY" -c 'import inkcast.training.train_sketch, inkcast.export.pipeline' 2>/dev/null; then
      echo "building the test suite's bundle on the host with $DEV_PY (trains ~2 minutes, cached in $CACHE)"
      mkdir -p "$CACHE"
      (cd "$SRC" && INKCAST_TEST_CACHE=$CACHE INKCAST_DATA=$DATA PYTHONDONTWRITEBYTECODE=1 \
         "$DEV_PY" -m pytest -q -p no:cacheprovider --setup-only tests/test_runtime.py \
      ) > "$WORK/test-cache.log" 2>&1 || { tail -20 "$WORK/test-cache.log"; die "building the test suite's bundle on the host failed"; }
    else
      echo "no Python with the train extra ($DEV_PY; set INKCAST_DEV_PYTHON): bundle-based tests will be skipped"
    fi
  fi
  # the whole source copy (tests read files such as benchmarks/baseline-*.json); inkcast itself is
  # imported from the venv, the tree has no inkcast/ folder to shadow it
  cp -r "$SRC" "$ROOT$A/src"
  rm -rf "$ROOT$CACHE"; mkdir -p "$(dirname "$ROOT$CACHE")"
  [ -d "$CACHE" ] && cp -r "$CACHE" "$ROOT$CACHE"
  PYTEST_ARGS=(-p pytest_no_tensorflow -p no:cacheprovider -v -rs --durations=5 --ignore tests/test_wheel_install.py $TESTS)
  t0=$(date +%s)
  set +e
  ARM_ENV+=(PYTHONPATH=$A PYTHONUNBUFFERED=1)   # for -p pytest_no_tensorflow; live progress in the log
  echo "  (emulated: several minutes; follow it in $WORK/pytest-aarch64.log)"
  in_arm /bin/sh -c "cd $A/src && exec $PY -m pytest --junitxml=$A/junit.xml ${PYTEST_ARGS[*]}" 2>&1 \
    | sed -u 's/^/  | /' > "$WORK/pytest-aarch64.log"
  set -e
  T_ARM=$(( $(date +%s) - t0 ))
  grep -E '^  \| (FAILED|ERROR|SKIPPED)|[0-9]+ (passed|failed)|^  \| [0-9.]+s (call|setup)' "$WORK/pytest-aarch64.log" | tail -30
  cp "$ROOT$A/junit.xml" "$WORK/junit-aarch64.xml" 2>/dev/null || die "the aarch64 test run wrote no report (see $WORK/pytest-aarch64.log)"
  echo "  x86-64 run of the same suite:"
  set +e
  (cd "$SRC" && env -u PYTHONPATH INKCAST_DATA=$DATA INKCAST_TEST_CACHE=$CACHE PYTHONPATH="$REPO/scripts" PYTHONDONTWRITEBYTECODE=1 \
     "$XV/bin/python" -m pytest --junitxml="$WORK/junit-x86_64.xml" "${PYTEST_ARGS[@]}") 2>&1 | sed 's/^/  | /' > "$WORK/pytest-x86_64.log"
  set -e
  grep -E '[0-9]+ (passed|failed)' "$WORK/pytest-x86_64.log" | tail -1
  # Arm-specific = fails on aarch64 but not on x86-64 with the same wheel, versions and tests.
  TESTS_RESULT=$("$HOST_PY" - "$WORK/junit-aarch64.xml" "$WORK/junit-x86_64.xml" "$T_ARM" <<'EOF'
import sys, xml.etree.ElementTree as ET
def load(p):
    out = {}
    for tc in ET.parse(p).iter("testcase"):
        kinds = {c.tag for c in tc}
        k = f'{tc.get("classname")}::{tc.get("name")}'
        out[k] = "failed" if kinds & {"failure", "error"} else "skipped" if "skipped" in kinds else out.get(k, "passed")
    return out
arm, x86 = load(sys.argv[1]), load(sys.argv[2])
def count(d):
    return ", ".join(f"{sum(v == o for v in d.values())} {o}" for o in ("passed", "skipped", "failed"))
arm_only = sorted(k for k, v in arm.items() if v == "failed" and x86.get(k) != "failed")
both = sorted(k for k, v in arm.items() if v == "failed" and x86.get(k) == "failed")
missing = sorted(set(x86) - set(arm))
print(f"aarch64: {count(arm)} in {sys.argv[3]} s | x86-64: {count(x86)}")
print("Arm-specific failures: " + (", ".join(arm_only) if arm_only else "none"))
if missing:
    print("only run on x86-64: " + ", ".join(missing[:10]))
if both:
    print("WARN failing on x86-64 too (not Arm-specific): " + ", ".join(both))
sys.exit(1 if arm_only or missing else 0)
EOF
) || TESTS_FAILED=1
  echo "$TESTS_RESULT" | sed 's/^/  /'
  if grep -q '^WARN' <<<"$TESTS_RESULT" && [ "$STRICT_TESTS" = 1 ]; then TESTS_FAILED=1; fi
else
  say "5/6 test suite skipped (--skip-tests)"
fi

# ---------------------------------------------------------------- 6. recognition: aarch64 vs x86-64
say "6/6 recognize real drawings on aarch64 and x86-64, compare"
# real drawings the model never trained on (the key_id hash split's test part), the same file for both sides
"$XV/bin/python" "$REPO/scripts/recognize_dump.py" sample --data "$DATA/quickdraw" --per-category "$PER_CATEGORY" \
    --split test --out "$ROOT$A/drawings.jsonl"
"$XV/bin/python" "$REPO/scripts/recognize_dump.py" dump --bundle "$BUNDLE" --drawings "$ROOT$A/drawings.jsonl" \
    --variants "$VARIANTS" --out "$WORK/x86_64.json" 2>&1 | grep -v XNNPACK || die "recognition on x86-64 failed"
in_arm "$PY" "$P/recognize_dump.py" dump --bundle "$P/bundle" --drawings "$P/drawings.jsonl" \
    --variants "$VARIANTS" --out "$P/aarch64.json" 2>&1 | grep -v XNNPACK || die "recognition on aarch64 failed"
cp "$ROOT$A/aarch64.json" "$WORK/aarch64.json"
set +e
CMP=$("$HOST_PY" "$REPO/scripts/recognize_dump.py" compare "$WORK/x86_64.json" "$WORK/aarch64.json" --atol "$ATOL")
CMP_RC=$?
set -e
echo "$CMP"

# ---------------------------------------------------------------- summary
cat <<EOF

================ check-aarch64 summary ================
machine      $(uname -m) $(. /etc/os-release; echo "$PRETTY_NAME"), $("$QEMU" --version | head -1 | sed 's/ version / /; s/ (.*//')
mode         $MODE ($( [ "$MODE" = chroot ] && echo "chroot(8) + binfmt_misc qemu-aarch64 with the F flag$( [ "$PROC_NS" = 1 ] && echo ", /proc mounted in a private namespace" || echo ", no /proc")" || echo "proot -q qemu-aarch64-static"))
root         $ROOT (arm64 Debian $SUITE, Python ${PYV#aarch64 })
bundle       $BUNDLE ($(cd "$BUNDLE" && "$HOST_PY" -c 'import json; print(", ".join(sorted(json.load(open("manifest.json"))["variants"])))'))
installed    inkcast[$EXTRA] from $(basename "$WHEEL"): $(tr '\n' ' ' < "$CONSTRAINTS")
$(printf '%s\n' "${SUMMARY[@]}" | sed 's/^/wheels       /')
$(echo "$TESTS_RESULT" | sed 's/^/tests        /')
recognition  $(echo "$CMP" | grep -c '^  [a-z]') variant(s), $(head -1 "$ROOT$A/drawings.jsonl" >/dev/null; wc -l < "$ROOT$A/drawings.jsonl") real drawings, atol $ATOL
$(echo "$CMP" | sed -n '3,$p' | grep -v '^compare:' | grep -v '^  - ' | grep -v '^  \.\.\. and')
timing       emulated aarch64 timings are qemu TCG on this x86-64 host, not a Raspberry Pi's
elapsed      $(( $(date +%s) - T_START )) s
EOF
if [ "$CMP_RC" != 0 ] || [ "${TESTS_FAILED:-0}" = 1 ]; then
  [ "$CMP_RC" = 0 ] || echo "RESULT       FAIL: aarch64 and x86-64 results differ (see above)"
  [ "${TESTS_FAILED:-0}" = 0 ] || echo "RESULT       FAIL: tests fail on aarch64 that pass on x86-64 ($WORK/pytest-aarch64.log)"
  exit 1
fi
echo "RESULT       PASS: same top-1 on every drawing, probabilities within $ATOL; $( [ "$RUN_TESTS" = 1 ] && echo "no test fails on aarch64 that passes on x86-64" || echo "tests not run")"
}

main "$@"
