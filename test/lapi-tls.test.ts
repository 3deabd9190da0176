import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDbUrl } from './support/databases.ts';
import { requestFrom, type RequestFrom } from './support/http-from.ts';
import { makeTestPki, opensslAvailable, type TestPki } from './support/test-pki.ts';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { createLapiListener } from '../src/server/tls-listener.ts';
import { getMachine, listMachines } from '../src/store/machines.ts';
import { createBouncer, listBouncers } from '../src/store/bouncers.ts';
import { refusedRequests } from '../src/store/refused-requests.ts';

/**
 * HTTPS on the Local API and bouncer client certificates (docs/reference/crowdsec-1.6-1.7.md §2), over
 * real TLS on loopback with certificates made by openssl: a CA, OUs, an expired one, a revoked one
 * and its CRL, reloaded without a restart.
 */
const T0 = Date.now();
const KEY = '0123456789abcdef0123456789abcdef';

const BOUNCER_UA = { 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.25' };

describe.skipIf(!opensslAvailable())('Local API over TLS with client certificates', () => {
  let pki: TestPki;
  let server: RunningServer;
  let cleanup: () => Promise<void>;
  let dir: string;
  let ca: string;
  const clock = new ManualClock(T0);
  /** A request with the client certificate `name` (from `from`, with an API key when given). */
  const as = (name: string, extra: { from?: string; apiKey?: string } = {}): RequestFrom => {
    const c = pki.client(name);
    return {
      ca,
      cert: c.certPem,
      key: c.keyPem,
      localAddress: extra.from,
      headers: { ...BOUNCER_UA, ...(extra.apiKey ? { 'X-Api-Key': extra.apiKey } : {}) },
    };
  };
  const refusedReasons = async () => {
    await server.activity.flush();
    return (await refusedRequests(server.store)).map((r) => r.reason);
  };

  beforeAll(async () => {
    pki = makeTestPki();
    ca = fs.readFileSync(pki.caCert, 'utf8');
    pki.issue('fw', { cn: 'fw-tls', ou: 'bouncer-ou' });
    pki.issue('agent', { cn: 'lp1', ou: 'agent-ou' });
    pki.issue('wrong-ou', { cn: 'intruder', ou: 'marketing' });
    pki.issue('expired', { cn: 'old-fw', ou: 'bouncer-ou' }, { start: '20200101000000Z', end: '20200201000000Z' });
    pki.issue('revoked', { cn: 'stolen', ou: 'bouncer-ou' });
    pki.issue('later', { cn: 'later', ou: 'bouncer-ou' });
    pki.issue('clash', { cn: 'clash', ou: 'bouncer-ou' });
    pki.revoke('revoked');
    pki.gencrl();
    // Certificates start when openssl signs them: the clock starts after.
    clock.set(Date.now() + 1000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tls-'));
    const db = await freshDbUrl('sqlite');
    cleanup = db.cleanup;
    fs.writeFileSync(
      path.join(dir, 'vigil.yaml'),
      `tls:\n  cert_file: ${pki.serverCert}\n  key_file: ${pki.serverKey}\n  ca_cert_path: ${pki.caCert}\n  crl_path: ${pki.crl}\n  bouncers_allowed_ou: [bouncer-ou]\n`,
    );
    const config = loadConfig({
      flags: { config: path.join(dir, 'vigil.yaml'), listen: '127.0.0.1:0', db: db.url, metricsListen: 'off', adminListen: 'off' },
      env: {},
      cwd: dir,
    });
    server = await startServer(config, { clock, log: createLogger('silent') });
    await createBouncer(server.store, { name: 'keyed', apiKeyHash: hashApiKey(KEY), now: T0 });
    await createBouncer(server.store, { name: 'clash@127.0.0.1', apiKeyHash: hashApiKey('another-key-0123456789'), now: T0 });
  });
  afterAll(async () => {
    await server?.close();
    await cleanup?.();
    if (pki) fs.rmSync(pki.dir, { recursive: true, force: true });
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS only, TLS 1.2 or later', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await requestFrom(`${server.url}/health`, { ca })).text).toBe('{"status":"up"}');
    await expect(requestFrom(`${server.url}/health`, { ca, maxVersion: 'TLSv1.1' })).rejects.toThrow();
  });

  it('a verified certificate with an allowed OU is the bouncer CN@IP, auth type tls, created on first use', async () => {
    const r = await requestFrom(`${server.url}/v1/decisions/stream?startup=true`, as('fw'));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ deleted: null, new: null });
    expect((await requestFrom(`${server.url}/v1/decisions/stream`, as('fw'))).status).toBe(200);
    expect((await requestFrom(`${server.url}/v1/decisions/stream?startup=true`, as('fw', { from: '127.0.0.2' }))).status).toBe(200);
    await server.activity.flush();
    const rows = (await listBouncers(server.store)).filter((b) => b.name.startsWith('fw-tls@'));
    expect(rows.map((b) => [b.name, b.authType, b.autoCreated, b.ipAddress, b.lastPullAt !== null])).toEqual([
      ['fw-tls@127.0.0.1', 'tls', true, '127.0.0.1', true],
      ['fw-tls@127.0.0.2', 'tls', true, '127.0.0.2', true],
    ]);
    // Its random key hash is nobody's key.
    expect(rows[0]!.apiKeyHash).toMatch(/^[0-9a-f]{128}$/);
    expect(rows[0]!.apiKeyHash).not.toBe(rows[1]!.apiKeyHash);
  });

  it('without a certificate, the API key still works (VerifyClientCertIfGiven)', async () => {
    expect((await requestFrom(`${server.url}/v1/decisions/stream?startup=true`, { ca, headers: { ...BOUNCER_UA, 'X-Api-Key': KEY } })).status).toBe(200);
    expect((await requestFrom(`${server.url}/v1/decisions/stream?startup=true`, { ca, headers: { ...BOUNCER_UA, 'X-Api-Key': 'wrong' } })).status).toBe(403);
  });

  it.each([
    ['expired', 'tls:expired'],
    ['revoked', 'tls:revoked'],
    ['wrong-ou', 'tls:bad-ou'],
    ['agent', 'tls:bad-ou'],
    ['clash', 'tls:api-key-bouncer'],
  ])('%s certificate → 403 access forbidden, recorded as %s', async (name, reason) => {
    // A valid API key does not rescue a bad certificate: the certificate is used instead of the key.
    const r = await requestFrom(`${server.url}/v1/decisions/stream?startup=true`, as(name, { apiKey: KEY }));
    expect([r.status, r.text]).toEqual([403, '{"message":"access forbidden"}']);
    expect(await refusedReasons()).toContain(reason);
    expect((await listBouncers(server.store)).some((b) => b.authType === 'tls' && !b.name.startsWith('fw-tls@'))).toBe(false);
  });

  it('a certificate bouncer pushes usage metrics: the body guard checks the certificate as the route does', async () => {
    const now = Math.floor(clock.now() / 1000);
    const body = JSON.stringify({
      remediation_components: [
        {
          version: 'v0.0.25',
          type: 'crowdsec-firewall-bouncer',
          utc_startup_timestamp: now,
          feature_flags: [],
          metrics: [{ meta: { window_size_seconds: 900, utc_now_timestamp: now }, items: [{ name: 'dropped', value: 1, unit: 'packet', labels: {} }] }],
        },
      ],
    });
    const headers = { 'Content-Type': 'application/json' };
    expect((await requestFrom(`${server.url}/v1/usage-metrics`, { ...as('fw'), method: 'POST', body, headers })).status).toBe(201);
    expect((await requestFrom(`${server.url}/v1/usage-metrics`, { ca, method: 'POST', body, headers })).status).toBe(403);
  });

  it('a certificate from another CA → 403, recorded as tls:untrusted', async () => {
    const other = makeTestPki();
    try {
      other.issue('fw', { cn: 'fw-tls', ou: 'bouncer-ou' });
      const c = other.client('fw');
      const r = await requestFrom(`${server.url}/v1/decisions/stream`, { ca, cert: c.certPem, key: c.keyPem, headers: BOUNCER_UA });
      expect(r.status).toBe(403);
      expect(await refusedReasons()).toContain('tls:untrusted');
    } finally {
      fs.rmSync(other.dir, { recursive: true, force: true });
    }
  });

  it('the CRL is re-read when it changes (at most every 5 s), without a restart; a broken file keeps the previous CRLs', async () => {
    expect((await requestFrom(`${server.url}/v1/decisions/stream?startup=true`, as('later'))).status).toBe(200);
    pki.revoke('later');
    pki.gencrl();
    // Within 5 s of the last check the file is not looked at.
    expect((await requestFrom(`${server.url}/v1/decisions/stream`, as('later'))).status).toBe(200);
    clock.advance(6000);
    expect((await requestFrom(`${server.url}/v1/decisions/stream`, as('later'))).status).toBe(403);
    expect(await refusedReasons()).toContain('tls:revoked');
    const good = fs.readFileSync(pki.crl, 'utf8');
    fs.writeFileSync(pki.crl, '-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n');
    clock.advance(6000);
    expect((await requestFrom(`${server.url}/v1/decisions/stream`, as('later'))).status).toBe(403);
    expect((await requestFrom(`${server.url}/v1/decisions/stream`, as('fw'))).status).toBe(200);
    fs.writeFileSync(pki.crl, good);
  });

  it('an agent logs in with its certificate as CN@IP (validated, auth type tls) and uses the token; a bouncer certificate cannot', async () => {
    const agentUa = { 'User-Agent': 'crowdsec/v1.4.6-6~deb12u1+b1-linux-debian', 'Content-Type': 'application/json' };
    const login = (name: string) =>
      requestFrom(`${server.url}/v1/watchers/login`, { ...as(name), method: 'POST', headers: agentUa, body: '{"scenarios":["crowdsecurity/ssh-bf"]}' });
    const r = await login('agent');
    expect(r.status).toBe(200);
    const { token } = JSON.parse(r.text) as { token: string };
    const beat = await requestFrom(`${server.url}/v1/heartbeat`, { ...as('agent'), headers: { ...agentUa, Authorization: `Bearer ${token}` } });
    expect(beat.status).toBe(200);
    const m = await getMachine(server.store, 'lp1@127.0.0.1');
    expect([m?.authType, m?.isValidated, m?.scenarios, m?.version, m?.lastHeartbeatAt !== null]).toEqual([
      'tls',
      true,
      'crowdsecurity/ssh-bf',
      'v1.4.6-6~deb12u1+b1-linux-debian',
      true,
    ]);
    // A second login reuses the row.
    expect((await login('agent')).status).toBe(200);
    expect((await listMachines(server.store)).filter((x) => x.machineId.startsWith('lp1@'))).toHaveLength(1);
    const refused = await login('fw');
    expect([refused.status, JSON.parse(refused.text)]).toEqual([401, { code: 401, message: 'incorrect Username or Password' }]);
    expect(await refusedReasons()).toContain('tls:bad-ou');
    expect(await getMachine(server.store, 'fw-tls@127.0.0.1')).toBeUndefined();
  });

  it('agents: the login route can ask for a verdict against agents_allowed_ou (+ CRL)', async () => {
    const listener = createLapiListener(
      {
        certFile: pki.serverCert,
        keyFile: pki.serverKey,
        clientVerification: 'VerifyClientCertIfGiven',
        caCertPath: pki.caCert,
        bouncersAllowedOu: ['bouncer-ou'],
        agentsAllowedOu: ['agent-ou'],
        crlPath: pki.crl,
      },
      {},
      (req, res) => res.end(JSON.stringify(listener.clientCerts!.agent(req.socket) ?? null)),
      { clock, log: createLogger('silent') },
    );
    await new Promise<void>((resolve) => listener.server.listen(0, '127.0.0.1', resolve));
    const base = `https://127.0.0.1:${(listener.server.address() as { port: number }).port}`;
    try {
      expect(JSON.parse((await requestFrom(`${base}/`, as('agent'))).text)).toEqual({ ok: true, cn: 'lp1' });
      expect(JSON.parse((await requestFrom(`${base}/`, as('fw'))).text)).toMatchObject({ ok: false, reason: 'tls:bad-ou', cn: 'fw-tls' });
      expect(JSON.parse((await requestFrom(`${base}/`, as('revoked'))).text)).toMatchObject({ ok: false, reason: 'tls:revoked' });
      expect(JSON.parse((await requestFrom(`${base}/`, { ca })).text)).toBeNull();
    } finally {
      listener.server.close();
    }
  });
});

describe('tls configuration', () => {
  const load = (yaml: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tlscfg-'));
    fs.writeFileSync(path.join(dir, 'vigil.yaml'), yaml);
    try {
      return loadConfig({ flags: { config: path.join(dir, 'vigil.yaml'), db: 'sqlite:/tmp/x.db' }, env: {}, cwd: dir });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  it('needs both files or neither, and names the missing key', () => {
    expect(() => load('tls:\n  cert_file: a.pem\n')).toThrow(/tls\.key_file: missing/);
    expect(() => load('tls:\n  key_file: a.pem\n')).toThrow(/tls\.cert_file: missing/);
    expect(() => load('tls:\n  crl_path: c.pem\n')).toThrow(/tls\.crl_path need HTTPS/);
    expect(() => load('tls:\n  cert_file: a\n  key_file: b\n  client_verification: Maybe\n')).toThrow(/client_verification/);
    expect(() => load('tls:\n  cert_file: a\n  key_file: b\n  bouncers_allowed_ou: ["", x]\n')).toThrow(/bouncers_allowed_ou: an empty OU/);
  });
  it('defaults as CrowdSec, drops duplicate OUs, resolves paths from the file', () => {
    const c = load('tls:\n  cert_file: a.pem\n  key_file: b.pem\n  agents_allowed_ou: [x, x, y]\n').tls!;
    expect(c.clientVerification).toBe('VerifyClientCertIfGiven');
    expect(c.bouncersAllowedOu).toEqual(['bouncer-ou']);
    expect(c.agentsAllowedOu).toEqual(['x', 'y']);
    expect(path.isAbsolute(c.certFile)).toBe(true);
    expect(load('listen: 127.0.0.1:0\n').tls).toBeNull();
  });
});
