import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { main } from '../src/cli/main.ts';
import type { CliIo } from '../src/cli/io.ts';
import { systemClock } from '../src/lib/clock.ts';
import { loadConfig } from '../src/config/config.ts';
import type { VerifyResult } from '../src/doctor/verify.ts';
import { createLogger, startServer, type RunningServer } from '../src/app/serve.ts';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { startEnforcingServer, type EnforcingServer } from './support/enforcing-web-server.ts';
import { eventually, until } from './support/wait.ts';
import { createBouncer } from '../src/store/bouncers.ts';
import { activeDecisions, expiredDecisions } from '../src/store/decisions.ts';

/**
 * `vigil verify` end to end: the real `vigil serve` (in-process, port 0) as the Local API, web
 * servers that enforce decisions by asking it (test/support/enforcing-web-server.ts: live per
 * request, or stream with a poll interval), verify run through the CLI entry point on each
 * database, and Ctrl-C delivered as a real SIGINT to a real `npx vigil verify` child process.
 */
const ROOT = path.resolve(import.meta.dirname, '..');
const KEY_LIVE = 'verify-live-key-0123456789abcdef0';
const KEY_STREAM = 'verify-stream-key-0123456789abcdef';

for (const dialect of DIALECTS) {
  describe(`${dialect}: vigil verify`, () => {
    let dir: string;
    let dbUrl: string;
    let cleanup: () => Promise<void>;
    let server: RunningServer;
    let live: EnforcingServer;
    let blind: EnforcingServer;
    let stream: EnforcingServer;

    async function verify(...args: string[]): Promise<{ code: number; result: VerifyResult; err: string }> {
      let out = '';
      let err = '';
      const io: CliIo = { stdout: (t) => (out += t), stderr: (t) => (err += t), env: {}, cwd: dir, isTTY: false, clock: systemClock };
      const code = await main(['--db', dbUrl, 'verify', '-o', 'json', '--poll', '100ms', ...args], io);
      if (!out) throw new Error(`no output; stderr: ${err}`);
      return { code, result: JSON.parse(out) as VerifyResult, err };
    }
    /** The test decision's row: gone from the active set, soft-deleted (until moved to now). */
    async function decisionState(id: string | undefined) {
      const now = Date.now();
      const active = (await activeDecisions(server.store, now)).filter((d) => d.value.startsWith('192.0.2.'));
      const row = id ? (await expiredDecisions(server.store, now)).find((d) => d.id === Number(id)) : undefined;
      return { active: active.length, deleted: row?.deletedAt != null, reason: row?.scenario };
    }

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-verify-'));
      const db = await freshDbUrl(dialect);
      dbUrl = db.url;
      cleanup = db.cleanup;
      const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: dbUrl, metricsListen: '127.0.0.1:0' }, env: {}, cwd: dir });
      config.health.evaluateEveryMs = 0;
      server = await startServer(config, { log: createLogger('silent') });
      await createBouncer(server.store, { name: 'web-live', apiKeyHash: hashApiKey(KEY_LIVE), now: Date.now() });
      await createBouncer(server.store, { name: 'web-stream', apiKeyHash: hashApiKey(KEY_STREAM), now: Date.now() });
      live = await startEnforcingServer({ lapiUrl: server.url, apiKey: KEY_LIVE, mode: 'live' });
      blind = await startEnforcingServer({ lapiUrl: server.url, apiKey: KEY_LIVE, mode: 'live', trustForwardedFor: false });
      stream = await startEnforcingServer({ lapiUrl: server.url, apiKey: KEY_STREAM, mode: 'stream', pollMs: 1000 });
    });
    afterAll(async () => {
      await Promise.all([live?.close(), blind?.close(), stream?.close()]);
      await server?.close();
      await cleanup?.();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('passes against a server that enforces bans, and removes its test decision', async () => {
      const { code, result } = await verify('--url', live.url, '--update-period', '600ms');
      expect(result.verdict).toBe('pass');
      expect(code).toBe(0);
      expect(result.summary).toMatch(
        new RegExp(`^${live.url.replace(/[.]/g, '\\.')} blocks 192\\.0\\.2\\.1 with status 403, [\\d.]+m?s after the decision was added$`),
      );
      expect(result.steps.map((s) => `${s.step}:${s.ok}`)).toEqual(['baseline:true', 'add:true', 'wait:true', 'check:true', 'remove:true']);
      expect(result.steps[0].detail).toBe(`GET ${live.url} as 192.0.2.1 → 200 (not blocked yet)`);
      const state = await decisionState(result.decisionId);
      expect(state).toEqual({ active: 0, deleted: true, reason: expect.stringMatching(/^vigil verify 192\.0\.2\.1 \d{4}-/) });
    });

    it('fails against a server that does not trust X-Forwarded-For, and still removes the decision', async () => {
      const { code, result } = await verify('--url', blind.url, '--ip', '192.0.2.5', '--update-period', '400ms', '--settle', '300ms');
      expect(code).toBe(1);
      expect(result.verdict).toBe('fail');
      expect(result.summary).toBe(`${blind.url} still serves 192.0.2.5 (200) with a ban decision in place`);
      expect(result.fix).toContain('trusts X-Forwarded-For from this host');
      expect((await decisionState(result.decisionId)).active).toBe(0);
      expect(result.decisionRemoved).toBe(true);
    });

    it("waits for a stream bouncer's pull with --bouncer, then passes", async () => {
      const pullsBefore = stream.pulls();
      const { code, result } = await verify('--url', stream.url, '--ip', '192.0.2.2', '--bouncer', 'web-stream', '--timeout', '15s', '--settle', '500ms');
      expect(result.verdict).toBe('pass');
      expect(code).toBe(0);
      expect(result.steps[2].detail).toMatch(/^bouncer 'web-stream' pulled at \S+, [\d.]+m?s after the decision$/);
      expect(stream.pulls()).toBeGreaterThan(pullsBefore);
      expect((await decisionState(result.decisionId)).active).toBe(0);
    });

    it('captcha: accepts the captcha page', async () => {
      const { result } = await verify('--url', live.url, '--ip', '192.0.2.3', '--type', 'captcha', '--update-period', '600ms');
      expect(result.verdict).toBe('pass');
      expect(result.summary).toContain('with a captcha page');
    });

    it('fails when the named bouncer does not pull, and removes the decision', async () => {
      const idle = await startEnforcingServer({ lapiUrl: server.url, apiKey: KEY_STREAM, mode: 'stream', pollMs: 60_000 });
      try {
        idle.stopPulling();
        stream.stopPulling();
        const { code, result } = await verify('--url', idle.url, '--ip', '192.0.2.4', '--bouncer', 'web-stream', '--timeout', '1500ms');
        expect(code).toBe(1);
        expect(result.summary).toBe("bouncer 'web-stream' did not pull decisions within 1.5s: it is not receiving them");
        expect((await decisionState(result.decisionId)).active).toBe(0);
      } finally {
        await idle.close();
      }
    });

    it('refuses an address that already has a decision, and adds nothing', async () => {
      expect(
        await main(['--db', dbUrl, 'decisions', 'add', '--ip', '192.0.2.77', '--duration', '5m'], {
          stdout: () => {},
          stderr: () => {},
          env: {},
          cwd: dir,
          isTTY: false,
          clock: systemClock,
        }),
      ).toBe(0);
      // The server's decision sync (every 250 ms) has brought it into what the Local API answers.
      await eventually(
        'the Local API to answer the new decision',
        async () => (await (await fetch(`${server.url}/v1/decisions?ip=192.0.2.77`, { headers: { 'X-Api-Key': KEY_LIVE } })).text()) !== 'null',
      );
      const { code, result } = await verify('--url', live.url, '--ip', '192.0.2.77');
      expect(code).toBe(1);
      expect(result.summary).toBe('192.0.2.77 already has an active decision: the test would prove nothing');
      expect(result.decisionId).toBeUndefined();
      expect((await decisionState(undefined)).active).toBe(1);
    });

    it('names an unknown bouncer and bad flags', async () => {
      const { result } = await verify('--url', live.url, '--ip', '192.0.2.6', '--bouncer', 'nobody');
      expect(result.summary).toBe("no bouncer named 'nobody' on the Local API");
      let err = '';
      const io: CliIo = { stdout: () => {}, stderr: (t) => (err += t), env: {}, cwd: dir, isTTY: false, clock: systemClock };
      expect(await main(['--db', dbUrl, 'verify', '--url', live.url, '--ip', '192.0.2.300'], io)).toBe(1);
      expect(err).toBe('level=fatal msg="--ip \\"192.0.2.300\\": not an IPv4 or IPv6 address; use e.g. 192.0.2.1"\n');
    });
  });
}

describe('vigil verify: Ctrl-C', () => {
  it('a real SIGINT to `npx vigil verify` removes the test decision before exiting', { timeout: 60_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-verify-sigint-'));
    const dbUrl = `sqlite:${path.join(dir, 'vigil.db')}`;
    const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: dbUrl, metricsListen: '127.0.0.1:0' }, env: {}, cwd: dir });
    config.health.evaluateEveryMs = 0;
    const server = await startServer(config, { log: createLogger('silent') });
    const web = await startEnforcingServer({ lapiUrl: server.url, apiKey: KEY_LIVE, mode: 'live' });
    try {
      await createBouncer(server.store, { name: 'never-pulls', apiKeyHash: hashApiKey(KEY_LIVE), now: Date.now() });
      // Its own process group, as a shell gives a foreground job: Ctrl-C signals the whole group
      // (npx and the node process it runs), which is what the kill below does.
      const child = spawn('npx', ['vigil', '--db', dbUrl, 'verify', '--url', web.url, '--bouncer', 'never-pulls', '--timeout', '120s'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      const killGroup = (sig: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, sig);
        } catch {
          // already gone
        }
      };
      await until(
        'verify to reach the wait',
        () => {
          if (child.exitCode !== null) throw new Error(`verify exited ${child.exitCode} before the wait: ${out}${err}`);
          return /wait {5}for bouncer 'never-pulls'/.test(err) || undefined;
        },
        () => out + err,
        40_000,
        50,
      ).catch((e) => {
        killGroup('SIGKILL');
        throw e;
      });
      // The decision is in place while it waits.
      const during = (await activeDecisions(server.store, Date.now())).filter((d) => d.value === '192.0.2.1');
      expect(during).toHaveLength(1);
      killGroup('SIGINT');
      const timer = setTimeout(() => killGroup('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      expect(out).toMatch(/^ABORTED interrupted: the test decision was removed\n/);
      expect(err).toMatch(/ok {3}remove {3}test decision \d+ removed/);
      expect((await activeDecisions(server.store, Date.now())).filter((d) => d.value === '192.0.2.1')).toEqual([]);
      const row = (await expiredDecisions(server.store, Date.now())).find((d) => d.id === during[0].id);
      expect(row?.deletedAt).not.toBeNull();
    } finally {
      await web.close();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
