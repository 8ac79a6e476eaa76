# Gate: every C source and header is formatted with the project's .clang-format.
format_check() {
    local files
    files=$(git -C "$root" ls-files '*.c' '*.h' '*.cpp' | sed "s|^|$root/|")
    [ -z "$files" ] && return 0
    # shellcheck disable=SC2086
    clang-format --dry-run --Werror $files
}
gate "clang-format" format_check
