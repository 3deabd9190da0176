import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useVigilServe } from './support/vigil-serve.ts';
import { until } from './support/wait.ts';
import { loginMachine } from './support/watcher-login.ts';

/**
 * End to end: the real `vigil serve`, an agent added with the real `vigil machines add`, logged in with a
 * real token, posting CrowdSec 1.7's usage report (test/fixtures/usage-metrics/crowdsec-agent-1.7.json;
 * CrowdSec 1.4.6, installed here, predates usage metrics and sends none), and LP No Logs Read and LP No
 * Logs Parsed in `vigil issues list`. Time moves through the health rules (`no_logs_read_after: 3s`, `no_logs_parsed_after: 5s`).
 */
interface IssueJson {
  kind: string;
  subject: string;
  status: string;
  criticality: string;
  evidence: { causes: Array<{ cause: string }> };
}

const AGENT_UA = 'crowdsec/v1.7.0-debian-pragmatic-amd64-4144555';
const agentBody = (items: 'none' | 'unparsed' | 'parsed'): string => {
  const body = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'usage-metrics', 'crowdsec-agent-1.7.json'), 'utf8'));
  const all = body.log_processors[0].metrics[0].items as Array<{ name: string }>;
  if (items === 'none') body.log_processors[0].metrics[0].items = [];
  // Lines read, none parsed: only the read and unparsed counters move.
  if (items === 'unparsed') body.log_processors[0].metrics[0].items = all.filter((i) => i.name === 'read' || i.name.endsWith('unparsed'));
  return JSON.stringify(body);
};

describe('agents’ usage reports end to end (real vigil serve and CLI)', () => {
  const vigil = useVigilServe('vigil-lp-usage-', {
    configLines: ['health:', '  evaluate_every: 300ms', '  no_logs_read_after: 3s', '  no_logs_parsed_after: 5s'],
  });
  const password = 'e2e-agent-password-0123456789abcdef';

  beforeAll(async () => {
    await vigil().cli('machines', 'add', 'web1', '--password', password);
  });

  const issues = async (): Promise<IssueJson[]> => JSON.parse(await vigil().cli('issues', 'list', '-o', 'json'));
  async function report(body: string): Promise<number> {
    const token = await loginMachine(vigil().url, 'web1', password, AGENT_UA);
    const auth = { Authorization: `Bearer ${token}`, 'User-Agent': AGENT_UA };
    expect((await fetch(`${vigil().url}v1/heartbeat`, { headers: auth })).status).toBe(200);
    const r = await fetch(`${vigil().url}v1/usage-metrics`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body });
    return r.status;
  }
  const open = async (kind: string) => (await issues()).find((i) => i.kind === kind && i.subject === 'machine:web1' && i.status === 'open');
  /** Reports `body` again and again (as the agent does) until the issue `kind` is open; that issue. */
  const reportUntilOpen = (body: string, kind: string) =>
    until(
      `${kind} in vigil issues list`,
      async () => {
        expect(await report(body)).toBe(201);
        return open(kind);
      },
      vigil().logs,
    );

  it('raises LP No Logs Read for an agent that reports nothing read, then LP No Logs Parsed once it reads but cannot parse', async () => {
    expect(await report(agentBody('none'))).toBe(201);
    // Until the 3 s rule has passed and the issue shows.
    const read = await reportUntilOpen(agentBody('none'), 'lp_no_logs_read');
    expect(read).toMatchObject({ criticality: 'critical' });
    expect(read.evidence.causes[0]!.cause).toBe('logs_not_read');

    // Lines now arrive but none parse: No Logs Read resolves; No Logs Parsed opens past its 5 s.
    const parsed = await reportUntilOpen(agentBody('unparsed'), 'lp_no_logs_parsed');
    expect(parsed.evidence.causes[0]!.cause).toBe('logs_not_parsed');
    // Lines keep arriving (a report now), so nothing read is no longer true; the table shows the parse issue.
    expect(await report(agentBody('unparsed'))).toBe(201);
    const text = await vigil().cli('issues', 'list');
    expect(text).toMatch(/lp_no_logs_parsed +\| critical +\| machine:web1/);
    expect(text).not.toMatch(/lp_no_logs_read +\| critical +\| machine:web1 +\| open/);
  });
});
