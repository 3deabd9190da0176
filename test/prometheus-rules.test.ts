import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { createLogger, startServer, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashMachinePassword } from '../src/lib/password.ts';
import { createBouncer } from '../src/store/bouncers.ts';
import { createMachine, recordHeartbeat } from '../src/store/machines.ts';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { requestFrom } from './support/http-from.ts';

/**
 * The alert rules docs/operations.md ships (docs/prometheus/vigil.rules.yml), checked by the real
 * `promtool` (Debian's prometheus package; scripts/install-promtool.sh) against series recorded from
 * a real `vigil serve` scrape: a healthy live-mode bouncer (it asks per client, never on a cadence)
 * raises nothing, a bouncer silent for a day does. Then the watchdog rules on series that stop moving.
 */
const exec = promisify(execFile);
const RULES = path.resolve(import.meta.dirname, '../docs/prometheus/vigil.rules.yml');
const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
const H = 3600_000;
const LIVE_KEY = 'a'.repeat(32);

async function promtool(args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await exec('promtool', args, { timeout: 60_000 });
    return { ok: true, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string; code?: string | number };
    if (err.code === 'ENOENT') throw new Error('promtool is not installed: run scripts/install-promtool.sh (Debian package prometheus)');
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** The scrape's series of `names`, as promtool input series holding their value for `minutes`. */
function recorded(text: string, names: readonly string[], minutes: number): Array<{ series: string; values: string }> {
  const out: Array<{ series: string; values: string }> = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-z_]+)(\{.*\})? (\S+)$/.exec(line);
    if (!m || !names.includes(m[1]!)) continue;
    out.push({ series: `${m[1]}${m[2] ?? ''}`, values: `${m[3]}x${minutes}` });
  }
  return out;
}

function writeTest(dir: string, name: string, tests: unknown[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, YAML.stringify({ rule_files: [RULES], evaluation_interval: '1m', tests }));
  return file;
}

describe('Prometheus alert rules (promtool)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-promtool-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the rules file is valid', async () => {
    const r = await promtool(['check', 'rules', RULES]);
    expect(r.out).toContain('SUCCESS');
    expect(r.ok).toBe(true);
  });

  for (const dialect of DIALECTS) {
    describe(`${dialect}: on series recorded from vigil serve`, () => {
      let server: RunningServer;
      let cleanup: () => Promise<void>;
      let scrape = '';
      const clock = new ManualClock(T0);

      beforeAll(async () => {
        const db = await freshDbUrl(dialect);
        cleanup = db.cleanup;
        const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: '127.0.0.1:0' }, env: {}, cwd: '/nonexistent' });
        server = await startServer(config, { clock, log: createLogger('silent') });
        // Registered a month ago, asking per client ever since: a live-mode bouncer, no cadence.
        await createBouncer(server.store, { name: 'live-site', apiKeyHash: hashApiKey(LIVE_KEY), now: T0 - 30 * 24 * H });
        // Registered yesterday, never heard from since.
        await createBouncer(server.store, { name: 'fw-gone', apiKeyHash: hashApiKey('b'.repeat(32)), now: T0 - 25 * H });
        await createMachine(server.store, { machineId: 'agent-1', passwordHash: await hashMachinePassword('x'.repeat(16)), now: T0 - H, isValidated: true });
        await recordHeartbeat(server.store, 'agent-1', T0);
        const r = await requestFrom(`${server.url}/v1/decisions?ip=192.0.2.7`, {
          headers: { 'X-Api-Key': LIVE_KEY, 'User-Agent': 'crowdsec-nodejs-bouncer/v0.2.0' },
        });
        expect(r.status).toBe(200);
        await server.activity.flush();
        clock.advance(5 * 60_000);
        await server.health.evaluateNow();
        scrape = await (await fetch(server.metricsUrl!)).text();
      });
      afterAll(async () => {
        await server?.close();
        await cleanup?.();
      });

      it('scrapes a status per bouncer and machine, and the last evaluation', () => {
        expect(scrape).toMatch(/vigil_bouncer_status\{bouncer="live-site",type="[^"]*",status="healthy"\} 1/);
        expect(scrape).toMatch(/vigil_bouncer_status\{bouncer="fw-gone",type="[^"]*",status="offline"\} 1/);
        expect(scrape).toContain('vigil_machine_status{machine="agent-1",status="healthy"} 1');
        expect(scrape).toContain(`vigil_health_last_evaluation_timestamp_seconds ${(T0 + 5 * 60_000) / 1000}`);
      });

      it('a healthy live-mode bouncer raises nothing; the silent one does', async () => {
        const input = recorded(scrape, ['vigil_bouncer_status', 'vigil_machine_status', 'vigil_health_open_issues'], 10);
        expect(input.length).toBeGreaterThan(6);
        const file = writeTest(dir, `recorded-${dialect}.yml`, [
          {
            interval: '1m',
            input_series: input,
            alert_rule_test: [
              {
                eval_time: '5m',
                alertname: 'VigilBouncerUnhealthy',
                exp_alerts: [
                  {
                    exp_labels: { bouncer: 'fw-gone', status: 'offline' },
                    exp_annotations: { summary: "bouncer fw-gone is offline: run 'vigil bouncers inspect fw-gone'" },
                  },
                ],
              },
              { eval_time: '5m', alertname: 'VigilAgentUnhealthy', exp_alerts: [] },
            ],
          },
        ]);
        const r = await promtool(['test', 'rules', file]);
        expect(r.out).toContain('SUCCESS');
        expect(r.ok).toBe(true);
      });
    });
  }

  it('the watchdog: an evaluation timestamp that stops moving fires VigilNotEvaluating; one that moves does not', async () => {
    const file = writeTest(dir, 'watchdog.yml', [
      {
        interval: '1m',
        // Evaluating: the timestamp follows promtool's clock (seconds). Wedged: frozen at 60 s.
        input_series: [
          { series: 'vigil_health_last_evaluation_timestamp_seconds{instance="a"}', values: '0+60x10' },
          { series: 'vigil_health_last_evaluation_timestamp_seconds{instance="b"}', values: '0+60x1 60x9' },
        ],
        promql_expr_test: [
          {
            expr: 'time() - max by (instance) (vigil_health_last_evaluation_timestamp_seconds) > 180',
            eval_time: '6m',
            exp_samples: [{ labels: '{instance="b"}', value: 300 }],
          },
        ],
      },
      {
        interval: '1m',
        input_series: [{ series: 'vigil_health_last_evaluation_timestamp_seconds', values: '0+60x1 60x9' }],
        alert_rule_test: [
          {
            eval_time: '6m',
            alertname: 'VigilNotEvaluating',
            exp_alerts: [{ exp_labels: {}, exp_annotations: { summary: "Vigil's health engine has not evaluated for 5m 0s: nothing would be noticed" } }],
          },
        ],
      },
      {
        interval: '1m',
        input_series: [{ series: 'vigil_health_last_evaluation_timestamp_seconds', values: '0+60x10' }],
        alert_rule_test: [
          { eval_time: '6m', alertname: 'VigilNotEvaluating', exp_alerts: [] },
          { eval_time: '6m', alertname: 'VigilNotEvaluatingAbsent', exp_alerts: [] },
        ],
      },
    ]);
    const r = await promtool(['test', 'rules', file]);
    expect(r.out).toContain('SUCCESS');
    expect(r.ok).toBe(true);
  });
});
