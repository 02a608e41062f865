# Shared by scripts/test, scripts/demo and bench/run: the dev venv and the collection layout.
# shellcheck shell=bash
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="${CINDEROPS_LOCAL:-$REPO/.local}"
# Python for the collection: 3.12 (ansible-core 2.21) by default; CINDEROPS_PYTHON=3.11 gives ansible-core 2.19.
PY_MINOR="${CINDEROPS_PYTHON:-3.12}"
VENV="${CINDEROPS_VENV:-$LOCAL/venv-dev-py$PY_MINOR}"
COLLECTIONS="$LOCAL/collections"
COLLECTION_DIR="$COLLECTIONS/ansible_collections/cinderops/snapshots"
export CINDEROPS_LOCAL="$LOCAL"

say() { printf '\n==> %s\n' "$*"; }

find_python() {
  local cand
  for cand in "$(command -v "python$PY_MINOR" 2>/dev/null)" \
              "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$PY_MINOR".*/bin/"python$PY_MINOR" \
              "/usr/bin/python$PY_MINOR"; do
    if [ -n "$cand" ] && [ -x "$cand" ] && "$cand" -c 'import venv' >/dev/null 2>&1; then
      echo "$cand"; return 0
    fi
  done
  echo "error: python$PY_MINOR not found (set CINDEROPS_PYTHON to 3.11 or 3.12)" >&2
  return 1
}

ensure_venv() {
  local constraints="$REPO/tests/constraints-py$PY_MINOR.txt" stamp want
  [ -f "$constraints" ] || { echo "error: no $constraints for Python $PY_MINOR" >&2; return 1; }
  want="$(cat "$REPO/tests/requirements.txt" "$constraints" | sha256sum | cut -c1-16)"
  stamp="$VENV/.cinderops-stamp"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  local py; py="$(find_python)" || return 1
  say "creating the dev venv $VENV with $py"
  [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV" || return 1
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -U pip || return 1
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REPO/tests/requirements.txt" -c "$constraints" || return 1
  echo "$want" > "$stamp"
}

# ansible-test bootstraps pip in its per-test venvs from a CI host we cannot reach; a small
# stand-in in its cache does the same with Python's bundled pip (tooling facts: ../shared).
ensure_get_pip() {
  local version
  for version in $(grep -ho "pip='[0-9.]*'" "$VENV"/lib/python*/site-packages/ansible_test/_internal/python_requirements.py | tr -dc "0-9.\n"); do
    mkdir -p "$HOME/.ansible/test/cache"
    cat > "$HOME/.ansible/test/cache/get_pip_${version//./_}.py" <<'PY'
"""Stand-in for get-pip.py written by cinderops.snapshots scripts: bundled pip, then the asked-for pip."""
import ensurepip
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--cert", "/etc/ssl/certs/ca-certificates.crt"] + args))
PY
  done
}

# Ansible finds the collection at .local/collections/ansible_collections/cinderops/snapshots (a symlink).
ensure_layout() {
  mkdir -p "$(dirname "$COLLECTION_DIR")"
  ln -sfn "$REPO" "$COLLECTION_DIR"
  export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"
  export PATH="$VENV/bin:$PATH"
  export OS_CLIENT_CONFIG_FILE="${CINDEROPS_CLOUD_DIR:-$LOCAL/cloud}/clouds.yaml"
}

# ansible-test wants its working directory to really be .../ansible_collections/NS/NAME (it reads the
# physical path), so sanity runs on an exported copy of the tracked and new files, made fresh each time.
export_for_sanity() {
  export_tree "$LOCAL/sanity/ansible_collections/cinderops/snapshots"
}

# ansible-lint runs the way users and Galaxy's importer run it: in a plain clone (no collection layout,
# no ANSIBLE_COLLECTIONS_PATH), where it lays the collection out itself.
export_for_lint() {
  export_tree "$LOCAL/lint/snapshots"
}

# A fresh copy of the tracked and new files at $1, with a throwaway git index of its own
# (ansible-test lists a collection's files through git).
export_tree() {
  local dest="$1"
  rm -rf "$dest" && mkdir -p "$dest" || return 1
  # Files deleted in the work tree but not yet in the index are left out.
  (cd "$REPO" && git ls-files -z -co --exclude-standard \
     | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
     | tar --null -T - -cf -) | tar -xf - -C "$dest" || return 1
  (cd "$dest" && git init -q && git add -A) >/dev/null || return 1
  echo "$dest"
}

# ansible-test's shellcheck sanity test is skipped (with only a warning) when shellcheck is missing.
# The report picture's tests render it in a real browser and scrape the metrics through a real
# node_exporter: both from Debian.
ensure_report_tools() {
  local missing=() pkg
  for pkg in chromium prometheus-node-exporter; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "error: missing Debian packages ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  say "installing Debian packages: ${missing[*]}"
  (apt-get install -y -qq --no-install-recommends "${missing[@]}" || { apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends "${missing[@]}"; }) >/dev/null 2>&1 ||
    { echo "error: could not install ${missing[*]}" >&2; return 1; }
}

ensure_shellcheck() {
  command -v shellcheck >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ]; then
    (apt-get install -y -qq shellcheck >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq shellcheck; }) >/dev/null 2>&1
  fi
  command -v shellcheck >/dev/null 2>&1 || echo "warning: shellcheck is missing (apt-get install shellcheck); its sanity test will be skipped" >&2
}
