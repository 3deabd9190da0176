import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alertAddress } from '../../test/support/heavy-alerts.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** The real agent's ssh-bf alert, re-addressed. */
const fixture = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/crowdsec-1.4.6/agent-alerts-post.json'), 'utf8')) as {
  request: { body: Array<Record<string, unknown>> };
};
const template = fixture.request.body.find((a) => a.scenario === 'crowdsecurity/ssh-bf')!;
const templateText = JSON.stringify(template);
const templateIp = (template.source as { ip: string }).ip;

/** Alert `n` of the run (its own source address, so one ban each), stamped `now`, as JSON text. */
export const alertFor = (n: number, now: Date): string => {
  const ip = alertAddress(n);
  const stamp = now.toISOString();
  return templateText
    .split(templateIp)
    .join(ip)
    .replace(/"(start_at|stop_at|timestamp)":"[^"]*"/g, `"$1":"${stamp}"`)
    .replace(/"key":"timestamp","value":"[^"]*"/g, `"key":"timestamp","value":"${stamp}"`);
};
