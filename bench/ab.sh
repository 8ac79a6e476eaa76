#!/usr/bin/env bash
# Before and after: runs two builds of one benchmark program back to back,
# N times in turn (A, B, A, B, ...), and prints for each timed line the
# median over the N pairs of B's figure divided by A's (below 1: B is
# faster). Pairing runs that follow each other keeps the load of a shared
# machine from moving one side only. Timing decides nothing: this only
# prints.
#   bench/ab.sh OLD/bench_alloc NEW/bench_alloc [N=9]
set -euo pipefail
a=$1 b=$2 n=${3:-9}
# "label<TAB>ns" for each line with a "N.NN ns/..." figure.
# A line that starts in column 1 with "word:" names the section ("arena:",
# "pool:"), which prefixes the labels under it.
figures() { "$1" 2>&1 | awk '/^[a-z_]+:/ { sec = $1 " " } { for (i = 2; i <= NF; i++) if ($i ~ /^ns\//) {
    label = sec $1; for (j = 2; j < i - 1; j++) label = label " " $j; print label "\t" $(i - 1) } }'; }
all=""
for ((k = 0; k < n; k++)); do
    fa=$(figures "$a") fb=$(figures "$b")
    all+=$(paste <(printf '%s\n' "$fa") <(printf '%s\n' "$fb" | cut -f2) |
           awk -F'\t' '{ printf "%s\t%.4f\t%s\t%s\n", $1, $3 / $2, $2, $3 }')$'\n'
done
printf '%s' "$all" | awk -F'\t' -v n="$n" '
    { if (!($1 in seen)) { seen[$1] = 1; order[++m] = $1 } r[$1, ++c[$1]] = $2 }
    END {
        printf "%-46s %s (%d pairs)\n", "", "new / old, median", n
        for (k = 1; k <= m; k++) {
            l = order[k]; cnt = c[l]
            for (i = 1; i <= cnt; i++) v[i] = r[l, i]
            for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
            med = cnt % 2 ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
            printf "%-46s %.3f  (%.3f to %.3f)\n", l, med, v[1], v[cnt]
        }
    }'
