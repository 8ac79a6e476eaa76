# shellcheck shell=bash
# Gate: every libFuzzer harness runs for a bounded time (ZMEM_FUZZ_TIME
# seconds each, default 30), two at a time. A crash, leak, timeout or
# out-of-memory fails that harness's gate and prints the input that did it.
# Sourced by .ci/run ($root, $log, $jobs, gate, passed, failed are set).

fuzz_time=${ZMEM_FUZZ_TIME:-30}
fuzz_dir="$log/fuzz"
mkdir -p "$fuzz_dir"

# Prints an input the way a report needs it: its path and a hex dump of up to
# 256 bytes.
fuzz_show_input() {
    local f=$1 size
    size=$(stat -c %s "$f")
    echo "input: $f ($size bytes)"
    od -A x -t x1z -v -N 256 "$f"
    [ "$size" -gt 256 ] && echo "... ($((size - 256)) more bytes)"
    return 0
}

# Runs harness $1 for $fuzz_time seconds; leaves its log in $fuzz_dir/$1.log,
# any failing input as $fuzz_dir/$1-{crash,leak,timeout,oom}-*, and its exit
# status in $fuzz_dir/$1.rc.
fuzz_run_one() {
    local h=$1 bin="$root/build-fuzz/fuzz/fuzz_$1" work="$fuzz_dir/$1.corpus" seeds dict=()
    seeds="$root/fuzz/corpus/$h"
    mkdir -p "$work"
    [ -d "$seeds" ] || seeds=
    case "$h" in alloc_ops) ;; *) dict=(-dict="$root/fuzz/json.dict") ;; esac
    # ASan/UBSan abort with a report; LSan runs after every input (libFuzzer's
    # -detect_leaks); -rss_limit_mb catches runaway memory, -timeout a hang.
    ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        timeout -k 10 $((fuzz_time + 120)) "$bin" -max_total_time="$fuzz_time" -timeout=20 \
        -rss_limit_mb=2560 -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="$fuzz_dir/$h-" "$work" ${seeds:+"$seeds"} >"$fuzz_dir/$h.log" 2>&1
    echo $? >"$fuzz_dir/$h.rc"
}

# The verdict for harness $1, with the evidence when it failed.
fuzz_verdict() {
    local h=$1 rc artifacts
    rc=$(cat "$fuzz_dir/$h.rc" 2>/dev/null || echo 1)
    artifacts=$(find "$fuzz_dir" -maxdepth 1 -type f -name "$h-*" | sort)
    grep -E '^#[0-9]+ +DONE|^stat::number_of_executed_units' "$fuzz_dir/$h.log" | tail -2
    if [ "$rc" -eq 0 ] && [ -z "$artifacts" ]; then return 0; fi
    echo "fuzz_$h exited with status $rc; the end of its log:"
    grep -vE '^(#[0-9]+|INFO:|MS:|\s*$|"|###)' "$fuzz_dir/$h.log" | tail -60
    for a in $artifacts; do fuzz_show_input "$a"; done
    echo "replay it: build/fuzz/replay_$h <input>  (ZMEM_FUZZ_TRACE=1 shows the steps)"
    return 1
}

echo "== fuzz (build)"
if CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false -Dbenchmarks=false \
        --buildtype=debugoptimized --wipe >"$log/fuzz-setup.txt" 2>&1 ||
   CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false -Dbenchmarks=false \
        --buildtype=debugoptimized >"$log/fuzz-setup.txt" 2>&1; then
    if ninja -C build-fuzz >"$log/fuzz-build.txt" 2>&1; then
        fuzz_harnesses=()
        for b in "$root"/build-fuzz/fuzz/fuzz_*; do
            [ -f "$b" ] && [ -x "$b" ] && fuzz_harnesses+=("${b##*/fuzz_}")
        done
        echo "== fuzz: ${fuzz_harnesses[*]} (${fuzz_time}s each, 2 at a time)"
        fuzz_running=0
        for h in "${fuzz_harnesses[@]}"; do
            if [ "$fuzz_running" -ge 2 ]; then wait -n; fuzz_running=$((fuzz_running - 1)); fi
            fuzz_run_one "$h" &
            fuzz_running=$((fuzz_running + 1))
        done
        wait
        for h in "${fuzz_harnesses[@]}"; do gate "fuzz $h" fuzz_verdict "$h"; done
        [ ${#fuzz_harnesses[@]} -gt 0 ] || gate "fuzz (no harness built)" false
    else
        tail -50 "$log/fuzz-build.txt"; echo "FAILED: fuzz build"; failed=$((failed + 1))
    fi
else
    tail -50 "$log/fuzz-setup.txt"; echo "FAILED: fuzz setup"; failed=$((failed + 1))
fi
