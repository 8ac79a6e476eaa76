# shellcheck shell=bash
# Gate: every C source and header is formatted with the project's .clang-format.
# The list comes from git; an empty list (no git, not a checkout, or a pattern
# that matches nothing) is a failure, not a pass.
format_check() {
    local files n
    files=$(git -C "$root" ls-files '*.c' '*.h' '*.cpp' | sed "s|^|$root/|")
    n=$(printf '%s' "$files" | grep -c .)
    if [ "$n" -eq 0 ]; then
        echo "clang-format: no C files listed by git ls-files in $root"
        return 1
    fi
    echo "clang-format: $n files"
    # shellcheck disable=SC2086
    clang-format --dry-run --Werror $files
}
gate "clang-format" format_check
