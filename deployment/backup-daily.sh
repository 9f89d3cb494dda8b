#!/usr/bin/env bash
# The Compose `backup` service's loop: runs backup.sh every day at BACKUP_TIME (HH:MM, in the
# container's TZ, default 03:00). A failed backup is logged and retried the next day; check
# `docker compose logs backup`. For an immediate backup:
#   docker compose run --rm backup /opt/guichet/backup.sh
set -uo pipefail
BACKUP_TIME="${BACKUP_TIME:-03:00}"
[[ "$BACKUP_TIME" =~ ^([01][0-9]|2[0-3]):[0-5][0-9]$ ]] || {
  echo "backup-daily.sh: BACKUP_TIME must be HH:MM (got $BACKUP_TIME)" >&2
  exit 1
}
here=$(dirname "${BASH_SOURCE[0]}")
while true; do
  now=$(date +%s)
  next=$(date -d "today $BACKUP_TIME" +%s)
  [ "$next" -le "$now" ] && next=$(date -d "tomorrow $BACKUP_TIME" +%s)
  echo "backup-daily.sh: next backup at $(date -d "@$next" '+%F %R %Z')"
  sleep $((next - now))
  "$here/backup.sh" || echo "backup-daily.sh: the backup FAILED (see above); next try tomorrow" >&2
done
