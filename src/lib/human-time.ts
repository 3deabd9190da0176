/** Times and durations as the dashboard shows them. Pure: `now` comes from the server's Clock. */

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

/** "just now", "42 s ago", "3 min ago", "5 h ago", "2 d ago"; "in 4 h" for a future time. */
export function relativeTime(ms: number, now: number): string {
  const delta = now - ms;
  const future = delta < 0;
  const a = Math.abs(delta);
  if (a < 5 * S) return future ? 'in a moment' : 'just now';
  const text = a < M ? `${Math.floor(a / S)} s` : a < H ? `${Math.floor(a / M)} min` : a < 2 * D ? `${Math.floor(a / H)} h` : `${Math.floor(a / D)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

/** `2026-11-02 10:03:12 UTC`: exact, sortable, and the same on every viewer's screen. */
export function exactTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A duration in two units at most: "45 s", "3 min 20 s", "3 h 59 min", "2 d 3 h". */
export function humanDuration(ms: number): string {
  const a = Math.max(0, Math.round(ms / S) * S);
  const parts: Array<[number, string]> = [
    [Math.floor(a / D), 'd'],
    [Math.floor((a % D) / H), 'h'],
    [Math.floor((a % H) / M), 'min'],
    [Math.floor((a % M) / S), 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return '0 s';
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n} ${u}`)
    .join(' ');
}
