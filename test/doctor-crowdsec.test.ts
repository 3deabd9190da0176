import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport, Finding } from '../src/core/doctor/finding.ts';
import type { VerifyResult } from '../src/doctor/verify.ts';
import { crowdsecAvailable, startCrowdsec, type CrowdsecInstance } from './support/crowdsec-instance.ts';
import { startEnforcingServer, type EnforcingServer } from './support/enforcing-web-server.ts';
import { cliRunner } from './support/cli.ts';

/**
 * doctor and verify against a REAL CrowdSec 1.4.6 Local API (isolated instance: its own config,
 * SQLite and port; test/support/crowdsec-instance.ts). doctor only speaks HTTP, so it must work the
 * same; its key check (a HEAD) must not move the bouncer's last pull on CrowdSec either; verify
 * writes its test decision with the instance's cscli and removes it again.
 */
const cs = crowdsecAvailable();

describe.skipIf(!cs.available && !process.env.CI)(`doctor and verify against a real CrowdSec ${cs.version ?? ''} ${cs.reason ?? ''}`, () => {
  let dir: string;
  let lapi: CrowdsecInstance;
  let key: string;

  const vigil = cliRunner(() => ({ cwd: dir }));
  const findings = (out: string): Finding[] => (JSON.parse(out) as DoctorReport).targets.flatMap((t) => t.findings);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-doctor-cs-'));
    lapi = await startCrowdsec({ workDir: dir });
    key = await lapi.addBouncer('doctor-bouncer');
  });
  afterAll(async () => {
    await lapi?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('doctor passes with the right key; its HEAD /v1/decisions moves neither the last pull nor the type', async () => {
    const before = (await lapi.listBouncers()).find((b) => b.name === 'doctor-bouncer')!;
    const file = path.join(dir, 'crowdsec-firewall-bouncer.yaml');
    fs.writeFileSync(file, `mode: nftables\napi_url: ${lapi.url}\napi_key: \${API_KEY}\n`, { mode: 0o644 });
    fs.writeFileSync(`${file}.local`, `api_key: ${key}\n`, { mode: 0o600 });
    const r = await vigil('doctor', '-o', 'json', '--no-service-checks', '--timeout', '2s', file);
    expect(findings(r.out).filter((f) => f.status !== 'ok')).toEqual([]);
    expect(r.code).toBe(0);
    const health = findings(r.out).find((f) => f.check === 'lapi.health')!;
    expect(health.title).toBe('Local API up: GET /health → 200 {"status":"up"}');
    const after = (await lapi.listBouncers()).find((b) => b.name === 'doctor-bouncer')!;
    expect(after.last_pull).toBe(before.last_pull);
    // CrowdSec takes type/version from any authenticated request: the bouncer's own type is kept.
    expect([after.type, after.version]).toEqual(['crowdsec-firewall-bouncer', 'vigil-doctor']);
  });

  it('why not HEAD /v1/decisions/stream: CrowdSec 1.4.6 records it as a pull (and moves the delta cursor)', async () => {
    const k = await lapi.addBouncer('stream-head');
    const before = (await lapi.listBouncers()).find((b) => b.name === 'stream-head')!.last_pull;
    const res = await fetch(`${lapi.url}v1/decisions/stream`, { method: 'HEAD', headers: { 'X-Api-Key': k } });
    expect(res.status).toBe(200);
    const after = (await lapi.listBouncers()).find((b) => b.name === 'stream-head')!.last_pull;
    expect(Date.parse(after!)).toBeGreaterThan(Date.parse(before!));
  });

  it('doctor names a wrong key and a deleted bouncer: 403 from CrowdSec', async () => {
    const wrong = await vigil('doctor', '-o', 'json', '--url', lapi.url, '--key', 'not-a-crowdsec-key-00000000000000');
    expect(wrong.code).toBe(1);
    expect(findings(wrong.out).find((f) => f.check === 'lapi.key')!.title).toMatch(/refused: HEAD \/v1\/decisions → 403 access forbidden$/);
    const k2 = await lapi.addBouncer('short-lived');
    expect((await vigil('doctor', '-o', 'json', '--url', lapi.url, '--key', k2)).code).toBe(0);
    await lapi.deleteBouncer('short-lived');
    const gone = await vigil('doctor', '-o', 'json', '--url', lapi.url, '--key', k2);
    expect(gone.code).toBe(1);
    expect(findings(gone.out).find((f) => f.check === 'lapi.key')!.status).toBe('fail');
  });

  describe('verify --cscli', () => {
    let live: EnforcingServer;
    let stream: EnforcingServer;
    beforeAll(async () => {
      live = await startEnforcingServer({ lapiUrl: lapi.url, apiKey: key, mode: 'live' });
      const streamKey = await lapi.addBouncer('stream-web');
      stream = await startEnforcingServer({ lapiUrl: lapi.url, apiKey: streamKey, mode: 'stream', pollMs: 1000 });
    });
    afterAll(async () => {
      await live?.close();
      await stream?.close();
    });

    const decisionsFor = async (ip: string) => {
      const out = (await lapi.cscli(['decisions', 'list', '--ip', ip, '-o', 'json'])).stdout.trim();
      return out === 'null' || out === '' ? [] : (JSON.parse(out) as unknown[]);
    };

    /** `vigil verify -o json` against this CrowdSec through cscli: the result, and the exit code. */
    const verifyThroughCscli = async (url: string, ip: string, ...flags: string[]) => {
      const r = await vigil('verify', '-o', 'json', '--cscli', lapi.cscliWrapper, '--url', url, '--ip', ip, ...flags);
      return { result: JSON.parse(r.out) as VerifyResult, code: r.code };
    };

    it('adds the test decision through cscli, sees the block, removes exactly that decision', async () => {
      const { result, code } = await verifyThroughCscli(live.url, '192.0.2.21', '--update-period', '500ms', '--poll', '200ms');
      expect(result.verdict).toBe('pass');
      expect(code).toBe(0);
      expect(result.steps[1].detail).toMatch(/^ban 192\.0\.2\.21 for 5m0s \(decision \d+, CrowdSec via .+\)$/);
      expect(await decisionsFor('192.0.2.21')).toEqual([]);
    });

    it("waits for a stream bouncer's last pull as cscli reports it", async () => {
      const { result } = await verifyThroughCscli(stream.url, '192.0.2.22', '--bouncer', 'stream-web', '--timeout', '20s', '--poll', '300ms');
      expect(result.verdict).toBe('pass');
      expect(result.steps[2].detail).toMatch(/^bouncer 'stream-web' pulled at /);
      expect(await decisionsFor('192.0.2.22')).toEqual([]);
    });
  });
});
