import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl, withStoreAt } from './support/databases.ts';
import { startVigilServe, type VigilServe } from './support/vigil-serve.ts';
import { until as waitUntil } from './support/wait.ts';
import type { HealthIssue } from '../src/core/model/health-issue.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { crowdsecAvailable, startCrowdsecAgent } from './support/crowdsec-agent.ts';
import { getBouncer } from '../src/store/bouncers.ts';
import { openHealthIssues } from '../src/store/health-issues.ts';
import { useCleanups } from './support/cleanups.ts';
import { loginMachine } from './support/watcher-login.ts';

const exec = promisify(execFile);
const cs = crowdsecAvailable();
/** The real cscli 1.4.6; in CI it must be there. */
const skipCscli = !cs.available && !process.env.CI;

/**
 * Issue 24 item 5: the operator's diagnosis never revives the dead. A real `vigil serve` learns a
 * bouncer's (or an agent's) cadence, the component stops, its issue goes Critical; then what the
 * runbook tells a person to run is run against it: the real `vigil doctor`, a `curl -I` with the key,
 * cscli's login and reads with the agent's credentials. Critical stays Critical, no life is recorded,
 * and the probe is shown as evidence. Cadences are short and the floors set down in vigil.yaml.
 */
const EVERY_MS = 400;
const HEALTH = ['health:', '  evaluate_every: 250ms', '  late_after_min: 1s', '  offline_after_factor: 8', '  offline_after_min: 1s'];
const AGENT_UA = 'crowdsec/v1.4.6-6~deb12u1+b1-linux-debian';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real process on a loaded machine: 30 s at most, every 100 ms. */
const until = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => waitUntil(what, probe, undefined, 30_000, 100);

for (const dialect of DIALECTS) {
  // A real process, a few seconds of pulls and real CLIs: a loaded CI machine needs more than the default 30 s.
  describe(`${dialect}: a diagnosis is evidence, never a sign of life`, { timeout: 120_000 }, () => {
    const cleanups = useCleanups();

    async function serve(): Promise<{ v: VigilServe; dbUrl: string }> {
      const db = await freshDbUrl(dialect);
      cleanups.push(db.cleanup);
      const workDir = cleanups.tempDir('vigil-diagnosis-');
      const v = await startVigilServe({ workDir, db: db.url, configLines: ['activity_flush_every: 100ms', ...HEALTH] });
      cleanups.push(() => v.stop());
      return { v, dbUrl: db.url };
    }

    const issueOf = (dbUrl: string, subject: string) => withStoreAt(dbUrl, async (s) => (await openHealthIssues(s)).find((i) => i.subject === subject));
    const evidenceOf = (i: HealthIssue) => i.evidence.causes.flatMap((c) => (c as { evidence: string[] }).evidence).join('\n');
    /**
     * The open issue of `subject` once an evaluation shows `text` in its evidence (a bounded wait,
     * so a loaded machine is no failure); a resolved issue never shows it, and the wait fails.
     */
    const evaluatedWith = (dbUrl: string, subject: string, text: string) =>
      until(`evidence '${text}'`, async () => {
        const i = await issueOf(dbUrl, subject);
        return i && evidenceOf(i).includes(text) ? i : undefined;
      });

    it('vigil doctor and a curl -I with the key keep a dead bouncer Critical, record no life, and show as evidence', async () => {
      const { v, dbUrl } = await serve();
      const key = (await v.cli('bouncers', 'add', 'fw', '-o', 'raw')).trim();
      const headers = { 'X-Api-Key': key, 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.25' };
      for (let i = 0; i < 8; i++) {
        expect((await fetch(`${v.url}v1/decisions/stream?${i === 0 ? 'startup=true' : ''}`, { headers })).status).toBe(200);
        await sleep(EVERY_MS);
      }
      // Killed: Integration Late, then Offline (Critical).
      const critical = await until('fw_integration_offline', async () => {
        const i = await issueOf(dbUrl, 'bouncer:fw');
        return i?.kind === 'fw_integration_offline' ? i : undefined;
      });
      const before = (await withStoreAt(dbUrl, (s) => getBouncer(s, 'fw')))!;

      // The real vigil doctor against it (its key check is a HEAD /v1/decisions).
      const report = await v.cli('doctor', '--url', v.url, '--key', key, '-o', 'json');
      expect(report).toContain('accepted');
      // An evaluation after the probe shows it as evidence (old code: the issue fell to a Warning instead).
      let issue = await evaluatedWith(dbUrl, 'bouncer:fw', 'from vigil doctor');
      expect([issue.id, issue.kind, issue.criticality]).toEqual([critical.id, 'fw_integration_offline', 'critical']);
      expect(evidenceOf(issue)).toMatch(/key accepted at \S+, from vigil doctor \(HEAD \/v1\/decisions from 127\.0\.0\.1\)/);
      expect(evidenceOf(issue)).not.toContain('the process runs but does not pull decisions');
      let after = (await withStoreAt(dbUrl, (s) => getBouncer(s, 'fw')))!;
      expect([after.lastRequestAt, after.lastPullAt, after.type, after.version]).toEqual([
        before.lastRequestAt,
        before.lastPullAt,
        before.type,
        before.version,
      ]);
      expect(await v.cli('bouncers', 'inspect', 'fw')).toMatch(/Last Probe\s+key accepted at \S+, from vigil doctor/);
      expect(await v.cli('issues', 'show', String(issue.id))).toContain('from vigil doctor (HEAD /v1/decisions from 127.0.0.1)');

      // The runbook's curl -I -H 'X-Api-Key: …' (curl's User-Agent).
      const head = await fetch(`${v.url}v1/decisions/stream`, { method: 'HEAD', headers: { 'X-Api-Key': key, 'User-Agent': 'curl/8.5.0' } });
      expect(head.status).toBe(200);
      issue = await evaluatedWith(dbUrl, 'bouncer:fw', 'from curl/8.5.0');
      expect([issue.id, issue.kind, issue.criticality]).toEqual([critical.id, 'fw_integration_offline', 'critical']);
      expect(evidenceOf(issue)).toMatch(/key accepted at \S+, from curl\/8\.5\.0 \(HEAD \/v1\/decisions\/stream from 127\.0\.0\.1\)/);
      after = (await withStoreAt(dbUrl, (s) => getBouncer(s, 'fw')))!;
      expect([after.lastRequestAt, after.lastPullAt]).toEqual([before.lastRequestAt, before.lastPullAt]);
      expect(JSON.parse(await v.cli('bouncers', 'inspect', 'fw', '-o', 'json')).lastProbe).toMatchObject({ userAgent: 'curl/8.5.0', method: 'HEAD' });

      // Its own traffic is still life: one pull resolves it.
      expect((await fetch(`${v.url}v1/decisions/stream?`, { headers })).status).toBe(200);
      await until('resolved', async () => ((await issueOf(dbUrl, 'bouncer:fw')) === undefined ? true : undefined));
    });

    /** An agent `myhost` that logged in and beat steadily every EVERY_MS, then stopped: LP Offline. */
    async function stoppedAgent(v: VigilServe, dbUrl: string, password: string): Promise<HealthIssue> {
      const token = await loginMachine(v.url, 'myhost', password, AGENT_UA);
      for (let i = 0; i < 8; i++) {
        expect((await fetch(`${v.url}v1/heartbeat`, { headers: { 'User-Agent': AGENT_UA, Authorization: `Bearer ${token}` } })).status).toBe(200);
        await sleep(EVERY_MS);
      }
      return until('lp_offline', async () => {
        const i = await issueOf(dbUrl, 'machine:myhost');
        return i?.kind === 'lp_offline' ? i : undefined;
      });
    }

    it.skipIf(skipCscli)("the real cscli 1.4.6 (decisions list, alerts list) with a stopped agent's credentials does not resolve LP Offline", async () => {
      const { v, dbUrl } = await serve();
      const password = 'agent-test-password-0123456789abcdef';
      await v.cli('machines', 'add', 'myhost', '--password', password);
      // The agent's own configuration (its credentials file), not started: cscli reads it.
      const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-cscli-'));
      const agent = await startCrowdsecAgent({ workDir, lapiUrl: v.url, login: 'myhost', password, start: false });
      cleanups.push(async () => {
        await agent.destroy();
        fs.rmSync(workDir, { recursive: true, force: true });
      });
      const offline = await stoppedAgent(v, dbUrl, password);
      for (const args of [
        ['decisions', 'list'],
        ['alerts', 'list'],
      ])
        await exec('cscli', ['-c', agent.configPath, ...args], { timeout: 30_000 });
      const issue = await evaluatedWith(dbUrl, 'machine:myhost', 'was not followed by a heartbeat: cscli');
      expect([issue.id, issue.kind, issue.criticality]).toEqual([offline.id, 'lp_offline', 'critical']);
      expect(await v.cli('machines', 'inspect', 'myhost')).toMatch(/Health\s+offline/);
    });

    it("cscli's login and reads with a stopped agent's credentials do not resolve LP Offline", async () => {
      const { v, dbUrl } = await serve();
      const password = 'agent-test-password-0123456789abcdef';
      await v.cli('machines', 'add', 'myhost', '--password', password);
      const login = () => loginMachine(v.url, 'myhost', password, AGENT_UA);
      // The agent: logs in, then beats steadily.
      const token = await login();
      for (let i = 0; i < 8; i++) {
        expect((await fetch(`${v.url}v1/heartbeat`, { headers: { 'User-Agent': AGENT_UA, Authorization: `Bearer ${token}` } })).status).toBe(200);
        await sleep(EVERY_MS);
      }
      // Stopped: LP Offline.
      const offline = await until('lp_offline', async () => {
        const i = await issueOf(dbUrl, 'machine:myhost');
        return i?.kind === 'lp_offline' ? i : undefined;
      });
      // `cscli decisions list` and `cscli alerts list` on that host: a login with the agent's
      // credentials (same User-Agent), then reads.
      const cscli = await login();
      const auth = { 'User-Agent': AGENT_UA, Authorization: `Bearer ${cscli}` };
      expect((await fetch(`${v.url}v1/alerts?has_active_decision=true&include_capi=false&limit=100`, { headers: auth })).status).toBe(200);
      expect((await fetch(`${v.url}v1/alerts?include_capi=false&limit=50`, { headers: auth })).status).toBe(200);
      const issue = await evaluatedWith(dbUrl, 'machine:myhost', 'was not followed by a heartbeat');
      expect([issue.id, issue.kind, issue.criticality]).toEqual([offline.id, 'lp_offline', 'critical']);
      expect(evidenceOf(issue)).toContain('was not followed by a heartbeat: cscli');
      expect(await v.cli('machines', 'inspect', 'myhost')).toMatch(/Health\s+offline/);
      // A heartbeat, the agent's own traffic, resolves it.
      expect((await fetch(`${v.url}v1/heartbeat`, { headers: auth })).status).toBe(200);
      await until('resolved', async () => ((await issueOf(dbUrl, 'machine:myhost')) === undefined ? true : undefined));
    });
  });
}
