# shellcheck shell=bash
# Gate: `zmem mcp` works with the official MCP client library. Installs
# @modelcontextprotocol/sdk with npm into a temporary directory and runs
# tests/prim/mcp_sdk_client.mjs against build-ci/tools/zmem. In CI (CI=true)
# the gate runs or fails: no node, no npm or a failed npm install is a
# failure. Elsewhere those are a skip (listed as such before the totals).
mcp_sdk_check() {
    local exe="$root/build-ci/tools/zmem" dir rc cannot=77
    $in_ci && cannot=1
    if [ ! -x "$exe" ]; then
        echo "mcp sdk: $exe was not built"
        return 1
    fi
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "mcp sdk: installing nodejs and npm"
        export DEBIAN_FRONTEND=noninteractive
        { apt-get update -qq && apt-get install -y -qq nodejs npm; } >"$log/mcp-apt.txt" 2>&1 ||
            tail -5 "$log/mcp-apt.txt"
    fi
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "mcp sdk: node and npm are not available on this machine"
        return $cannot
    fi
    dir=$(mktemp -d)
    if ! (cd "$dir" && npm init -y >/dev/null 2>&1 &&
          timeout 300 npm install --no-audit --no-fund --silent @modelcontextprotocol/sdk >npm.log 2>&1); then
        echo "mcp sdk: npm could not install @modelcontextprotocol/sdk"
        tail -5 "$dir/npm.log" 2>/dev/null
        rm -rf "$dir"
        return $cannot
    fi
    cp "$root/tests/prim/mcp_sdk_client.mjs" "$dir/"
    # zmem mcp keeps its memory under $HOME (the client passes HOME on, not
    # XDG_DATA_HOME): a fresh one per run, so an earlier run's keys are not seen.
    (cd "$dir" && HOME="$dir" timeout 120 node mcp_sdk_client.mjs "$exe")
    rc=$?
    rm -rf "$dir"
    return $rc
}
gate "mcp sdk client" mcp_sdk_check
