import { runbookFor, formatRunbookText, formatRunbookMarkdown } from '/work/main/src/health/runbooks.ts';
import { bouncerFamily, resolveKind } from '/work/main/src/health/bouncer-kind.ts';
const t = process.argv[2] ?? 'crowdsec-nginx-bouncer';
const r = runbookFor({ bouncerName: process.argv[3] ?? 'web-1', bouncerType: t, family: bouncerFamily(t), kind: resolveKind(t, null), lapiUrl: process.argv[6] ?? 'http://127.0.0.1:8080/', deployment: (process.argv[4] ?? 'host') as any, cause: (process.argv[5] ?? 'authentication') as any });
console.log(process.argv[7] === 'md' ? formatRunbookMarkdown(r) : formatRunbookText(r));
