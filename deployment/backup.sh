#!/usr/bin/env bash
# Guichet backup: a pg_dump (custom format) of the database plus a tar.gz of the uploads,
# named by date, checked after writing, kept BACKUP_KEEP_DAYS days, optionally copied away.
#
#   deployment/backup.sh [--env-file FILE]
#
# Reads the same variables as Guichet (DATABASE_URL or POSTGRES_*, UPLOAD_DIR/DATA_DIR, each
# also as NAME_FILE) plus:
#   BACKUP_DIR        where backups go (default: ./backups)
#   BACKUP_KEEP_DAYS  days to keep backups in BACKUP_DIR (default: 14)
#   BACKUP_REMOTE     optional copy target: a directory (/mnt/nas/guichet) or an rsync/scp
#                     target (backup@nas.example.com:/srv/backups/guichet/)
# pg_dump must be at least as new as the server (same major version or newer).
# Exits non-zero with a message on any failure; prints the files it wrote.
set -Eeuo pipefail
umask 077
PROG=backup.sh
# shellcheck source=deployment/lib-env.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-env.sh"

while [ $# -gt 0 ]; do
  case "$1" in
    --env-file) [ $# -ge 2 ] || die "--env-file needs a file"; load_env_file "$2"; shift 2 ;;
    --env-file=*) load_env_file "${1#*=}"; shift ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

need pg_dump pg_restore tar gzip
resolve_database
BACKUP_DIR="${BACKUP_DIR:-backups}"
BACKUP_KEEP_DAYS="${BACKUP_KEEP_DAYS:-14}"
[[ "$BACKUP_KEEP_DAYS" =~ ^[0-9]+$ ]] || die "BACKUP_KEEP_DAYS must be a whole number of days"
mkdir -p "$BACKUP_DIR" || die "cannot create BACKUP_DIR $BACKUP_DIR"
[ -w "$BACKUP_DIR" ] || die "BACKUP_DIR $BACKUP_DIR is not writable"

stamp=$(date +%Y%m%d-%H%M%S)
db_file="$BACKUP_DIR/guichet-db-$stamp.dump"
up_file="$BACKUP_DIR/guichet-uploads-$stamp.tar.gz"
trap 'rm -f "$db_file.partial" "$up_file.partial"' EXIT

say "dumping $PGURL_SAFE"
if ! pg_dump --format=custom --compress=6 --no-owner --no-privileges \
  --file="$db_file.partial" --dbname="$DB_URL"; then
  die "pg_dump failed for $PGURL_SAFE: is PostgreSQL running and reachable, are the credentials right, and is pg_dump ($(pg_dump --version | awk '{print $NF}')) at least the server's major version? Nothing was written."
fi
pg_restore --list "$db_file.partial" >/dev/null ||
  die "the dump $db_file does not read back (pg_restore --list failed)"
mv "$db_file.partial" "$db_file"

if [ -d "$UPLOAD_DIR" ]; then
  say "archiving uploads from $UPLOAD_DIR"
  tar --numeric-owner -C "$UPLOAD_DIR" -czf "$up_file.partial" . || die "tar failed on $UPLOAD_DIR"
else
  say "no uploads directory at $UPLOAD_DIR yet: writing an empty archive"
  empty=$(mktemp -d)
  tar -C "$empty" -czf "$up_file.partial" . || die "tar failed"
  rmdir "$empty"
fi
tar -tzf "$up_file.partial" >/dev/null || die "the archive $up_file does not read back"
mv "$up_file.partial" "$up_file"
say "wrote $db_file ($(du -h "$db_file" | cut -f1)) and $up_file ($(du -h "$up_file" | cut -f1))"

# Retention: only this script's own files, older than BACKUP_KEEP_DAYS days.
find "$BACKUP_DIR" -maxdepth 1 -type f \
  \( -name 'guichet-db-*.dump' -o -name 'guichet-uploads-*.tar.gz' \) \
  -mmin "+$((BACKUP_KEEP_DAYS * 1440))" -print -delete |
  sed "s/^/$PROG: deleted (older than $BACKUP_KEEP_DAYS days): /"

if [ -n "${BACKUP_REMOTE:-}" ]; then
  say "copying to $BACKUP_REMOTE"
  if command -v rsync >/dev/null 2>&1; then
    rsync -a "$db_file" "$up_file" "$BACKUP_REMOTE" || die "rsync to $BACKUP_REMOTE failed"
  elif [[ "$BACKUP_REMOTE" == *:* ]]; then
    command -v scp >/dev/null 2>&1 || die "neither rsync nor scp is installed for $BACKUP_REMOTE"
    scp -q -B "$db_file" "$up_file" "$BACKUP_REMOTE" || die "scp to $BACKUP_REMOTE failed"
  else
    mkdir -p "$BACKUP_REMOTE" && cp "$db_file" "$up_file" "$BACKUP_REMOTE" ||
      die "copy to $BACKUP_REMOTE failed"
  fi
fi
say "backup done"
