import { writeFileSync } from 'node:fs';

// Index i -> one decision. i%20==0: a range (alternating IPv4 /24 and IPv6 /64), i%20 in 1..5: an IPv6
// address, else an IPv4 address 10.(i>>16).(i>>8).(i&255). HIT IPs (i=257, i=65537) are IPv4 rows.
function decisionLine(i: number): string {
  const m = i % 20;
  if (m === 0) {
    const r = i / 20;
    return r % 2 === 0 ? `24h,Range,100.${64 + (r >> 8)}.${r & 255}.0/24,bench` : `24h,Range,2001:db8:ffff:${r.toString(16)}::/64,bench`;
  }
  if (m <= 5) return `24h,Ip,2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1,bench`;
  return `24h,Ip,10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},bench`;
}

/** Writes decisions [from, to) as a `cscli decisions import` CSV. */
export function writeCsv(path: string, from: number, to: number) {
  const lines = ['duration,scope,value,reason'];
  for (let i = from; i < to; i++) lines.push(decisionLine(i));
  writeFileSync(path, lines.join('\n') + '\n');
}
