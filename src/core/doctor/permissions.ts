/**
 * Can the service's user read the file, and can everyone? Pure: POSIX mode bits against a user's
 * uid and groups (read from /etc/passwd and /etc/group text).
 */

export interface FileOwnership {
  /** Permission bits (st_mode & 0o777). */
  mode: number;
  uid: number;
  gid: number;
}

export interface UserIds {
  name: string;
  uid: number;
  /** Primary and supplementary groups. */
  gids: number[];
}

export function readableBy(f: FileOwnership, u: UserIds): boolean {
  if (u.uid === 0) return true;
  if (f.uid === u.uid) return (f.mode & 0o400) !== 0;
  if (u.gids.includes(f.gid)) return (f.mode & 0o040) !== 0;
  return (f.mode & 0o004) !== 0;
}

export const worldReadable = (f: FileOwnership): boolean => (f.mode & 0o004) !== 0;

export const formatMode = (mode: number): string => (mode & 0o777).toString(8).padStart(4, '0');

/** Finds `name` in /etc/passwd and its groups in /etc/group; undefined when there is no such user. */
export function lookupUser(passwd: string, group: string, name: string): UserIds | undefined {
  let uid: number | undefined;
  let primary: number | undefined;
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) {
      uid = Number(f[2]);
      primary = Number(f[3]);
      break;
    }
  }
  if (uid === undefined || primary === undefined || Number.isNaN(uid)) return undefined;
  const gids = new Set<number>([primary]);
  for (const line of group.split('\n')) {
    const f = line.split(':');
    if (f.length >= 4 && f[3].split(',').includes(name)) gids.add(Number(f[2]));
  }
  return { name, uid, gids: [...gids] };
}

/** Names for uid/gid in messages (`root:www-data`); numbers when unknown. */
export function ownerNames(passwd: string, group: string, f: FileOwnership): string {
  const user =
    passwd
      .split('\n')
      .map((l) => l.split(':'))
      .find((x) => Number(x[2]) === f.uid)?.[0] ?? String(f.uid);
  const grp =
    group
      .split('\n')
      .map((l) => l.split(':'))
      .find((x) => Number(x[2]) === f.gid)?.[0] ?? String(f.gid);
  return `${user}:${grp}`;
}
