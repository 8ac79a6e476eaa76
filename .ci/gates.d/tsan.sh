# shellcheck shell=bash
# Gate: the multi-threaded tests under ThreadSanitizer. A test counts as
# multi-threaded when its source starts threads (pthread_create/thrd_create);
# only those run, in a clang build with -Db_sanitize=thread; finding none is a
# failure, as is a run in which none of them passed. tests/bad is left
# out: its tests are single-threaded (one runs on a thread only to get a small
# stack) and map gigabytes that TSan would shadow.
# Sourced by .ci/run ($root, $log, $jobs, count, gate, passed, failed are set).

tsan_srcs=()
tsan_tests=()
while IFS= read -r src; do
    tsan_srcs+=("$src")
    t=$(basename "$src" .c)
    tsan_tests+=("${t#test_}")
done < <(grep -rlE 'pthread_create|thrd_create' "$root/tests" --include='*.c' |
         grep -v "^$root/tests/bad/" | sort)

# The build's tests whose program is built from one of the given sources (a
# program may be run by several tests, e.g. once per store backend, and be
# named apart from its file), from meson's introspection of build-tsan.
tsan_test_names() {
    python3 - "$root/build-tsan" "$@" <<'PY'
import json, os, subprocess, sys
build, srcs = sys.argv[1], {os.path.realpath(s) for s in sys.argv[2:]}
def intro(what):
    return json.loads(subprocess.check_output(["meson", "introspect", build, what]))
exes = set()
for t in intro("--targets"):
    for ts in t.get("target_sources", []):
        for s in ts.get("sources", []):
            p = s if os.path.isabs(s) else os.path.join(build, s)
            if os.path.realpath(p) in srcs:
                exes.update(os.path.realpath(f) for f in t.get("filename", []))
for t in intro("--tests"):
    if t.get("cmd") and os.path.realpath(t["cmd"][0]) in exes:
        print(t["name"])
PY
}

# Runs the chosen tests; TSan on some kernels cannot map its shadow memory
# with ASLR on ("unexpected memory mapping"): then again with ASLR off.
tsan_run() {
    local out=$1; shift
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ZMEM_ALLOCATOR=c \
        meson test -C build-tsan --print-errorlogs --num-processes "$jobs" "$@" >"$out" 2>&1
    if grep -q 'ThreadSanitizer: unexpected memory mapping' "$out" "$root"/build-tsan/meson-logs/testlog.txt 2>/dev/null; then
        echo "(TSan needs ASLR off here: running under setarch -R)"
        TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ZMEM_ALLOCATOR=c \
            setarch "$(uname -m)" -R meson test -C build-tsan --print-errorlogs \
            --num-processes "$jobs" "$@" >"$out" 2>&1
    fi
    tail -12 "$out"
}

if [ ${#tsan_tests[@]} -eq 0 ]; then
    # Nothing to run is not a pass: the gate would check nothing.
    echo "== tsan: no multi-threaded test found under tests/"
    echo "FAILED: tsan (no test starts a thread)"; failed=$((failed + 1))
else
    echo "== tsan: ${tsan_tests[*]}"
    if CC=clang meson setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dbenchmarks=false \
            --buildtype=debug --wipe >"$log/tsan-setup.txt" 2>&1 ||
       CC=clang meson setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dbenchmarks=false \
            --buildtype=debug >"$log/tsan-setup.txt" 2>&1; then
        if ninja -C build-tsan >"$log/tsan-build.txt" 2>&1; then
            # The tests that run those programs, by what they are built from.
            mapfile -t tsan_run_list < <(tsan_test_names "${tsan_srcs[@]}")
            echo "tsan tests: ${tsan_run_list[*]}"
            if [ ${#tsan_run_list[@]} -gt 0 ]; then
                tsan_run "$log/tsan.txt" "${tsan_run_list[@]}"
                count "$log/tsan.txt" tsan
                if ! grep -qE '^Ok: +[1-9]' "$log/tsan.txt"; then
                    echo "FAILED: tsan (no test passed)"; failed=$((failed + 1))
                fi
            else
                echo "tsan: none of ${tsan_tests[*]} is a test of the build"; failed=$((failed + 1))
            fi
        else
            tail -50 "$log/tsan-build.txt"; echo "FAILED: tsan build"; failed=$((failed + 1))
        fi
    else
        tail -50 "$log/tsan-setup.txt"; echo "FAILED: tsan setup"; failed=$((failed + 1))
    fi
fi
