# Shared by backup.sh and restore.sh (sourced, not run): reads the same variables as Guichet.
#   DATABASE_URL, or POSTGRES_HOST/PORT/USER/PASSWORD/DB (defaults localhost, 5432, postgres,
#   -, guichet), UPLOAD_DIR (default DATA_DIR/uploads, DATA_DIR default `data`), each also as
#   NAME_FILE (Docker secrets). `--env-file FILE` loads a .env file; real variables win.
# shellcheck shell=bash

die() {
  printf '%s: ERROR: %s\n' "$PROG" "$*" >&2
  exit 1
}
say() { printf '%s: %s\n' "$PROG" "$*"; }

# NAME_FILE → NAME when NAME is empty, as Guichet does.
read_file_vars() {
  local name file
  for name in "$@"; do
    file="${name}_FILE"
    if [ -z "${!name:-}" ] && [ -n "${!file:-}" ]; then
      [ -r "${!file}" ] || die "$file: cannot read ${!file}"
      printf -v "$name" '%s' "$(cat "${!file}")"
      export "${name?}"
    fi
  done
}

# KEY=value lines (comments, blank lines, optional quotes); never evaluated as shell code.
load_env_file() {
  local file=$1 line key value
  [ -r "$file" ] || die "--env-file: cannot read $file"
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line%$'\r'}"
    [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    key="${BASH_REMATCH[2]}"
    value="${BASH_REMATCH[3]}"
    if [[ "$value" =~ ^\"(.*)\"$ ]] || [[ "$value" =~ ^\'(.*)\'$ ]]; then
      value="${BASH_REMATCH[1]}"
    else
      value="${value%%[[:space:]]#*}"
      value="${value%"${value##*[![:space:]]}"}"
    fi
    # The real environment wins over the file, as in Guichet.
    if [ -z "${!key:-}" ]; then
      printf -v "$key" '%s' "$value"
      export "${key?}"
    fi
  done <"$file"
}

# Sets PGURL_SAFE (password hidden, for messages) and exports libpq variables or DB_URL.
resolve_database() {
  read_file_vars DATABASE_URL POSTGRES_HOST POSTGRES_PORT POSTGRES_USER POSTGRES_PASSWORD \
    POSTGRES_DB UPLOAD_DIR DATA_DIR
  if [ -n "${DATABASE_URL:-}" ]; then
    case "$DATABASE_URL" in
      postgres://* | postgresql://*) ;;
      *) die "DATABASE_URL must start with postgres:// (got something else)" ;;
    esac
    DB_URL="$DATABASE_URL"
    PGURL_SAFE=$(printf '%s' "$DATABASE_URL" | sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#')
  elif [ -n "${POSTGRES_HOST:-}${POSTGRES_DB:-}${POSTGRES_USER:-}" ]; then
    export PGHOST="${POSTGRES_HOST:-localhost}" PGPORT="${POSTGRES_PORT:-5432}"
    export PGUSER="${POSTGRES_USER:-postgres}" PGDATABASE="${POSTGRES_DB:-guichet}"
    [ -n "${POSTGRES_PASSWORD:-}" ] && export PGPASSWORD="$POSTGRES_PASSWORD"
    DB_URL="postgresql:///$PGDATABASE"
    PGURL_SAFE="postgres://$PGUSER@$PGHOST:$PGPORT/$PGDATABASE"
  else
    die "no database configured: set DATABASE_URL (or POSTGRES_HOST/POSTGRES_DB/POSTGRES_USER), as for Guichet, or pass --env-file /etc/guichet/guichet.env. The embedded evaluation database (data/postgres) is not backed up by this script."
  fi
  # Fail fast instead of hanging on an unreachable host.
  export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-10}"
  UPLOAD_DIR="${UPLOAD_DIR:-${DATA_DIR:-data}/uploads}"
}

need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 ||
      die "$tool is not installed (Debian/Ubuntu: sudo apt-get install postgresql-client tar gzip)"
  done
}
