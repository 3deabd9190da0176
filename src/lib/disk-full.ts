/**
 * A write refused for lack of space: SQLite's SQLITE_FULL ("database or disk is full", a full
 * disk or a page-count limit), PostgreSQL's disk_full (53100), the OS's ENOSPC/EDQUOT. Told apart
 * from other failures so the client gets 507 with the fix and /health says "disk full", not a
 * bare 500 "internal error" beside `{"status":"up"}` (issue 27 item 10).
 */
export function isDiskFull(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_FULL' || code === '53100' || code === 'ENOSPC' || code === 'EDQUOT';
}

export const DISK_FULL_MESSAGE =
  "store full: no space left on the store's disk, nothing was written; free disk space (df -h on the store's directory), then retry";
