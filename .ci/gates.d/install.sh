# Gates: zmem as a user gets it. (1) Installed, found with pkg-config, a
# program compiled against it runs; (2) used as a Meson subproject.
install_check() {
    local t; t=$(mktemp -d)
    meson setup "$t/build" "$root" --prefix "$t/prefix" --libdir lib -Dtests=false \
        -Dbenchmarks=false >"$t/log" 2>&1 &&
        ninja -C "$t/build" >>"$t/log" 2>&1 && meson install -C "$t/build" >>"$t/log" 2>&1 || {
        tail -30 "$t/log"; return 1; }
    local flags
    flags=$(PKG_CONFIG_PATH="$t/prefix/lib/pkgconfig" pkg-config --cflags --libs zmem) || return 1
    # shellcheck disable=SC2086
    cc -std=c11 -Wall -Werror "$root/examples/arena_basics.c" $flags -o "$t/arena_basics" &&
        LD_LIBRARY_PATH="$t/prefix/lib" "$t/arena_basics" >/dev/null &&
        rm -rf "$t"
}
subproject_check() {
    local t; t=$(mktemp -d)
    mkdir -p "$t/app/subprojects"
    ln -s "$root" "$t/app/subprojects/zmem"
    cp "$root/examples/arena_basics.c" "$t/app/main.c"
    cat >"$t/app/meson.build" <<'MESON'
project('app', 'c', default_options: ['c_std=c11'])
zmem_dep = dependency('zmem', fallback: ['zmem'],
                      default_options: ['tests=false', 'benchmarks=false'])
executable('app', 'main.c', dependencies: zmem_dep)
MESON
    meson setup "$t/build" "$t/app" >"$t/log" 2>&1 && ninja -C "$t/build" >>"$t/log" 2>&1 &&
        "$t/build/app" >/dev/null || { tail -30 "$t/log"; return 1; }
    # As a subproject zmem brings its library only: no tests of its own in the
    # parent's suite, nothing but the library among what the parent installs.
    meson introspect --tests "$t/build" | grep -q '"name"' && {
        echo "zmem's tests are registered in the parent project"; return 1; }
    meson introspect --installed "$t/build" | tr ',' '\n' | grep -v 'libzmem' |
        grep -E 'bin/zmem|include/zmem|pkgconfig' && {
        echo "zmem installs more than its library as a subproject"; return 1; }
    rm -rf "$t"
}
gate "install + pkg-config" install_check
gate "meson subproject" subproject_check
