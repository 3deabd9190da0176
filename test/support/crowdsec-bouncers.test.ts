/**
 * Proves the real-bouncer harness against a tiny fake LAPI (node:http on 127.0.0.1, random port)
 * that answers /v1/decisions/stream with canned JSON. Needs the Debian bouncer packages
 * (scripts/install-crowdsec-bouncers.sh); skipped with a reason when they are absent.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCleanups } from './cleanups.ts';
import { until } from './wait.ts';
import { crowdsecBouncersAvailable } from './crowdsec-bouncers.ts';
import { parseRecordedCalls, startCustomBouncer } from './custom-bouncer.ts';
import { startFirewallBouncer } from './firewall-bouncer.ts';

const avail = crowdsecBouncersAvailable();
const API_KEY = '0123456789abcdef0123456789abcdef';

interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
}

interface FakeLapi {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** Answers the n-th stream request with responses[n] (then `{"deleted":null,"new":null}` forever). */
async function startFakeLapi(responses: object[], port = 0, host = '127.0.0.1'): Promise<FakeLapi> {
  const requests: SeenRequest[] = [];
  let streamCalls = 0;
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders });
    if (req.headers['x-api-key'] !== API_KEY) {
      res.writeHead(403, { 'Content-Type': 'application/json; charset=utf-8' }).end('{"message":"access forbidden"}');
      return;
    }
    if (!(req.url ?? '').startsWith('/v1/decisions/stream')) {
      res.writeHead(404).end();
      return;
    }
    const body = responses[streamCalls++] ?? { deleted: null, new: null };
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${host}:${addr.port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Tricky on purpose: spaces, both quote kinds, a backslash, a newline, non-ASCII.
const SCENARIO = `manual 'ban' from "3d12 19c7"\\x\nété`;
function decision(id: number, value: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { duration: '4m59.5s', id, origin: 'cscli', scenario: SCENARIO, scope: 'Ip', type: 'ban', value, ...over };
}

let workDir: string;
beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bouncers-'));
});
afterAll(() => {
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe('recorder format', () => {
  it('parses NUL-separated records and leaves a partial one for later', () => {
    const rec = (at: number, args: string[]): Buffer => Buffer.from([String(at), String(args.length), ...args].map((s) => `${s}\0`).join(''));
    const full = Buffer.concat([rec(1, ['add', 'a b', '', 'x\ny']), rec(2, [])]);
    const partial = rec(3, ['del', '1.2.3.4']).subarray(0, 12);
    const { calls, consumed } = parseRecordedCalls(Buffer.concat([full, partial]));
    expect(calls).toEqual([
      { at: 1, args: ['add', 'a b', '', 'x\ny'] },
      { at: 2, args: [] },
    ]);
    expect(consumed).toBe(full.length);
  });
});

describe('crowdsec-custom-bouncer (real binary)', () => {
  const cleanups = useCleanups();

  it.skipIf(!avail.custom)(`add then del through the script${avail.custom ? '' : ` — SKIPPED: ${avail.reason}`}`, async () => {
    const d = decision(1, '192.0.2.1');
    const lapi = await startFakeLapi([
      { deleted: null, new: [d] },
      { deleted: [{ ...d, duration: '-1.5s' }], new: null },
    ]);
    cleanups.push(() => lapi.close());
    const bouncer = await startCustomBouncer({ apiUrl: lapi.url, apiKey: API_KEY, updateFrequency: '1s', workDir });
    cleanups.push(() => bouncer.stop());

    const add = await bouncer.waitFor((e) => e.action === 'add', 10_000);
    expect(add).toMatchObject({ action: 'add', value: '192.0.2.1', seconds: 299, scenario: SCENARIO, decision: d });
    const del = await bouncer.waitFor((e) => e.action === 'del', 10_000);
    expect(del).toMatchObject({ action: 'del', value: '192.0.2.1', seconds: -1, scenario: SCENARIO });
    expect(del.decision).toEqual({ ...d, duration: '-1.5s' });
    expect(del.at).toBeGreaterThanOrEqual(add.at);
    expect(bouncer.events().map((e) => e.action)).toEqual(['add', 'del']);

    // The wire: first ?startup=true, then the literal empty query `?`, with the Go client's headers.
    const first = lapi.requests[0]!;
    expect(first.method).toBe('GET');
    expect(first.url).toBe('/v1/decisions/stream?startup=true');
    expect(first.headers['user-agent']).toBe('crowdsec-custom-bouncer/-');
    expect(first.headers['x-api-key']).toBe(API_KEY);
    expect(lapi.requests[1]!.url).toBe('/v1/decisions/stream?');
    expect(lapi.requests.every((r) => r.headers['user-agent'] === 'crowdsec-custom-bouncer/-' && r.headers['x-api-key'] === API_KEY)).toBe(true);
    expect(bouncer.logs()).toContain("adding '1' decisions");
    expect(bouncer.logs()).toContain("deleting '1' decisions");

    const pid = bouncer.pid;
    await bouncer.stop();
    expect(bouncer.exitCode()).not.toBeUndefined();
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it.skipIf(!avail.custom)('hangs without retrying when the LAPI is down at startup (real 0.0.15 behaviour)', async () => {
    // Reserve a free port, close it, start the bouncer against it, then bring the LAPI up there. On an
    // address of its own (127.0.0.47): on 127.0.0.1 a parallel test could take the freed port meanwhile.
    const HOST = '127.0.0.47';
    const probe = await startFakeLapi([], 0, HOST);
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const bouncer = await startCustomBouncer({ apiUrl: `http://${HOST}:${port}/`, apiKey: API_KEY, updateFrequency: '1s', workDir });
    cleanups.push(() => bouncer.stop());
    // Its first failed pull is logged a moment after it starts (later on a loaded machine).
    await until(
      'the refused first pull in its log',
      () => (/connection refused/.test(bouncer.logs()) ? true : undefined),
      () => bouncer.logs(),
      10_000,
      50,
    );
    const lapi = await startFakeLapi([{ deleted: null, new: [decision(1, '192.0.2.9')] }], port, HOST);
    cleanups.push(() => lapi.close());
    // The 3 s are the scenario (three update periods in which it must not poll), not a wait for an event.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(bouncer.exitCode()).toBeUndefined(); // still running...
    expect(lapi.requests).toHaveLength(0); // ...but never polls again
    expect(bouncer.events()).toHaveLength(0);
  });
});

describe('crowdsec-firewall-bouncer (real binary, nftables)', () => {
  const cleanups = useCleanups();

  for (const setOnly of [false, true]) {
    it.skipIf(!avail.firewall)(`fills and empties its nftables sets (setOnly=${setOnly})${avail.firewall ? '' : ` — SKIPPED: ${avail.reason}`}`, async () => {
      const lapi = await startFakeLapi([
        {
          deleted: null,
          new: [
            decision(1, '192.0.2.1'),
            decision(2, '2001:db8::1'),
            decision(3, '198.51.100.0/24', { scope: 'Range' }),
            decision(4, '192.0.2.2', { type: 'captcha' }),
          ],
        },
        { deleted: [decision(1, '192.0.2.1', { duration: '-1s' })], new: null },
      ]);
      cleanups.push(() => lapi.close());
      const bouncer = await startFirewallBouncer({ apiUrl: lapi.url, apiKey: API_KEY, updateFrequency: '1s', workDir, setOnly });
      cleanups.push(() => bouncer.stop());
      const names = bouncer.names;

      // captcha skipped (supported_decisions_types: [ban]); the range keeps only its network address.
      await bouncer.waitForIps((ips) => ips.includes('192.0.2.1'), 10_000);
      expect(await bouncer.listIps()).toEqual(['192.0.2.1', '198.51.100.0', '2001:db8::1']);
      const sets = await bouncer.listSets();
      expect(sets.v4[0]!.timeout).toBe(299);
      await bouncer.waitForIps((ips) => !ips.includes('192.0.2.1'), 10_000);
      expect(await bouncer.listIps()).toEqual(['198.51.100.0', '2001:db8::1']);
      expect(lapi.requests[0]!.headers['user-agent']).toBe('crowdsec-firewall-bouncer/-');
      expect(lapi.requests[0]!.url).toBe('/v1/decisions/stream?startup=true');

      const { execFileSync } = await import('node:child_process');
      const tables = (): string => execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
      expect(tables()).toContain(names.ipv4.table);
      const ruleset = execFileSync('nft', ['list', 'table', 'ip', names.ipv4.table], { encoding: 'utf8' });
      if (setOnly) expect(ruleset).not.toContain('hook input');
      else expect(ruleset).toMatch(/hook input[\s\S]*saddr @.*drop/);

      await bouncer.stop();
      expect(tables()).not.toContain(names.ipv4.table);
      expect(tables()).not.toContain(names.ipv6.table);
    });
  }
});
