# shellcheck shell=bash
# Installs the Debian packages propgrade builds and tests with, only those that are missing.
# Usage: source scripts/lib/deps.sh; install_deps [extra packages...]

PROPGRADE_BUILD_PACKAGES=(
  g++ cmake ninja-build pkg-config ccache
  libsqlite3-dev libpq-dev libssl-dev libcurl4-openssl-dev libzstd-dev
  nlohmann-json3-dev libcli11-dev libcpp-httplib-dev libtomlplusplus-dev libhowardhinnant-date-dev tzdata
  libgtest-dev libgmock-dev openssl
  etcd-server etcd-client postgresql-15 postgresql-client-15 prometheus
  chromium fonts-dejavu-core python3
  clang libclang-rt-14-dev e2fsprogs util-linux
  libbenchmark-dev wrk gnuplot-nox time systemd sqlite3 curl
)

install_deps() {
  local wanted=("${PROPGRADE_BUILD_PACKAGES[@]}" "$@") missing=() pkg
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The npm packages: uPlot for the dashboard (web/, compiled into the binary) and playwright-core
# for the browser test (tests/browser/; it drives Debian's chromium and downloads no browser).
# Usage: install_npm_deps [dir...] (default: both), from the repository root.
install_npm_deps() {
  local dir dirs=("$@")
  [ ${#dirs[@]} -eq 0 ] && dirs=(web tests/browser)
  for dir in "${dirs[@]}"; do
    [ -d "$dir/node_modules" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] && continue
    # Node and npm: the machine's own when present (playwright-core wants Node >= 20),
    # else Debian's.
    command -v npm >/dev/null || install_deps nodejs npm
    echo "npm ci in $dir"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  done
}
