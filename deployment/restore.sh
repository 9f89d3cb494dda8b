#!/usr/bin/env bash
# Guichet restore: a backup written by backup.sh into an EMPTY database and uploads directory.
#
#   deployment/restore.sh [--force] [--env-file FILE] BACKUP_FILE [UPLOADS_ARCHIVE]
#
# BACKUP_FILE is a guichet-db-*.dump; UPLOADS_ARCHIVE the matching guichet-uploads-*.tar.gz
# (default: the one with the same date next to BACKUP_FILE, when it exists).
# Reads the same variables as Guichet (DATABASE_URL or POSTGRES_*, UPLOAD_DIR/DATA_DIR).
# The database must exist (createdb) and Guichet must be stopped. A database that already
# has tables, or an uploads directory that has files, is refused unless --force is given:
# then the tables are dropped and replaced, and the uploads directory is emptied first.
set -Eeuo pipefail
umask 027
PROG=restore.sh
# shellcheck source=deployment/lib-env.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-env.sh"

force=0
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1; shift ;;
    --env-file) [ $# -ge 2 ] || die "--env-file needs a file"; load_env_file "$2"; shift 2 ;;
    --env-file=*) load_env_file "${1#*=}"; shift ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *) files+=("$1"); shift ;;
  esac
done
[ ${#files[@]} -ge 1 ] && [ ${#files[@]} -le 2 ] ||
  die "usage: restore.sh [--force] [--env-file FILE] BACKUP_FILE [UPLOADS_ARCHIVE]"
db_file=${files[0]}
up_file=${files[1]:-}
if [ -z "$up_file" ]; then
  guess="$(dirname "$db_file")/$(basename "$db_file" | sed -E 's/^guichet-db-(.*)\.dump$/guichet-uploads-\1.tar.gz/')"
  [ "$guess" != "$db_file" ] && [ -f "$guess" ] && up_file=$guess
fi

need pg_restore psql tar gzip
resolve_database
[ -r "$db_file" ] || die "cannot read $db_file"
pg_restore --list "$db_file" >/dev/null || die "$db_file is not a pg_dump custom-format file"
if [ -n "$up_file" ]; then
  [ -r "$up_file" ] || die "cannot read $up_file"
  tar -tzf "$up_file" >/dev/null || die "$up_file is not a readable tar.gz archive"
fi

tables=$(psql --no-psqlrc -XAtq --dbname="$DB_URL" -c \
  "select count(*) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')") ||
  die "cannot connect to $PGURL_SAFE: is PostgreSQL running, and does the database exist (createdb)?"
if [ "$tables" != 0 ] && [ "$force" = 0 ]; then
  die "the database $PGURL_SAFE is not empty ($tables tables). Restore into an empty database, or pass --force to drop and replace its tables."
fi
if [ -n "$up_file" ] && [ -d "$UPLOAD_DIR" ] && [ -n "$(ls -A "$UPLOAD_DIR")" ] && [ "$force" = 0 ]; then
  die "the uploads directory $UPLOAD_DIR is not empty. Use an empty one, or pass --force to empty it first."
fi

say "restoring $db_file into $PGURL_SAFE"
clean=()
[ "$tables" != 0 ] && clean=(--clean --if-exists)
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction "${clean[@]}" \
  --dbname="$DB_URL" "$db_file" || die "pg_restore failed; the database was left unchanged"

if [ -n "$up_file" ]; then
  say "restoring uploads from $up_file into $UPLOAD_DIR"
  mkdir -p "$UPLOAD_DIR" || die "cannot create $UPLOAD_DIR"
  if [ "$force" = 1 ]; then
    find "$UPLOAD_DIR" -mindepth 1 -delete || die "cannot empty $UPLOAD_DIR"
  fi
  tar --numeric-owner -C "$UPLOAD_DIR" -xzf "$up_file" || die "extracting $up_file failed"
else
  say "no uploads archive given or found next to $db_file: database only"
fi
say "restore done; start Guichet again"
