import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDbUrl } from './support/databases.ts';
import { crowdsecBouncersAvailable } from './support/crowdsec-bouncers.ts';
import { startFirewallBouncer, type FirewallBouncerHandle } from './support/firewall-bouncer.ts';
import { makeTestPki, opensslAvailable, type TestPki } from './support/test-pki.ts';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { buildDecision, manualAlert } from '../src/decisions/new-decisions.ts';
import { main } from '../src/cli/main.ts';
import type { CliIo } from '../src/cli/io.ts';
import { systemClock } from '../src/lib/clock.ts';
import { addDecisions } from '../src/store/decisions.ts';

/**
 * Debian's real crowdsec-firewall-bouncer (0.0.25), unchanged, authenticating by client certificate
 * (`cert_path`, `key_path`, `ca_cert_path`, no API key) over TLS against vigil serve; nftables in
 * set-only mode (no drop chain on this host).
 */
const available = crowdsecBouncersAvailable();
const ready = available.firewall && opensslAvailable();

describe.skipIf(!ready)(`real firewall bouncer by client certificate${ready ? '' : ` (skipped: ${available.reason ?? 'openssl missing'})`}`, () => {
  let pki: TestPki;
  let server: RunningServer;
  let bouncer: FirewallBouncerHandle | undefined;
  let cleanup: () => Promise<void>;
  let dir: string;
  let dbUrl: string;

  beforeAll(async () => {
    pki = makeTestPki();
    pki.issue('fw', { cn: 'edge-fw', ou: 'bouncer-ou' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tlsfw-'));
    const db = await freshDbUrl('sqlite');
    dbUrl = db.url;
    cleanup = db.cleanup;
    fs.writeFileSync(
      path.join(dir, 'vigil.yaml'),
      `tls:\n  cert_file: ${pki.serverCert}\n  key_file: ${pki.serverKey}\n  ca_cert_path: ${pki.caCert}\n  crl_path: ${pki.crl}\n`,
    );
    const config = loadConfig({
      flags: { config: path.join(dir, 'vigil.yaml'), listen: '127.0.0.1:0', db: db.url, metricsListen: 'off', adminListen: 'off' },
      env: {},
      cwd: dir,
    });
    server = await startServer(config, { log: createLogger('silent') });
    const now = systemClock.now();
    const d = buildDecision({ scope: 'Ip', value: '198.51.100.77', type: 'ban', duration: '4h', reason: 'tls test', origin: 'cscli' }, now);
    await addDecisions(server.store, manualAlert({ now, scenario: 'tls test', scope: d.scope, value: d.value, count: 1, machineId: 'vigil' }), [d]);
  });
  afterAll(async () => {
    await bouncer?.stop();
    await server?.close();
    await cleanup?.();
    if (pki) fs.rmSync(pki.dir, { recursive: true, force: true });
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pulls decisions and appears as CN@127.0.0.1 with auth type tls', async () => {
    const c = pki.client('fw');
    bouncer = await startFirewallBouncer({
      apiUrl: `${server.url}/`,
      apiKey: '',
      tls: { certPath: c.cert, keyPath: c.key, caCertPath: pki.caCert },
      workDir: dir,
      setOnly: true,
      disableIpv6: true,
    });
    expect(await bouncer.waitForIps((ips) => ips.includes('198.51.100.77'), 15_000)).toContain('198.51.100.77');
    await server.activity.flush();
    let out = '';
    const io: CliIo = { stdout: (t) => (out += t), stderr: () => {}, env: { VIGIL_DB: dbUrl }, cwd: dir, isTTY: false, clock: systemClock };
    expect(await main(['bouncers', 'list', '-o', 'json'], io)).toBe(0);
    const rows = JSON.parse(out) as Array<{
      name: string;
      auth_type: string;
      auto_created: boolean;
      ip_address: string;
      type: string;
      last_pull: string | null;
    }>;
    expect(rows.map((r) => [r.name, r.auth_type, r.auto_created, r.ip_address, r.type])).toEqual([
      ['edge-fw@127.0.0.1', 'tls', true, '127.0.0.1', 'crowdsec-firewall-bouncer'],
    ]);
    expect(rows[0]!.last_pull).not.toBeNull();
  }, 40_000);
});
