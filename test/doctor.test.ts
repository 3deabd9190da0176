import fs from 'node:fs';
import { lastProbes } from '../src/store/bouncer-probes.ts';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { systemClock } from '../src/lib/clock.ts';
import { loadConfig } from '../src/config/config.ts';
import { createLogger, startServer, type RunningServer } from '../src/app/serve.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import type { DoctorReport, Finding } from '../src/core/doctor/finding.ts';
import { probeHttp, probeTcp, probeTls } from '../src/doctor/network-probe.ts';
import { closedPort, packetFilterAvailable, startPacketFilter, startSelfSignedTlsServer, startSilentServer, type Closable } from './support/loopback-faults.ts';
import { cliRunner } from './support/cli.ts';
import { until } from './support/wait.ts';
import { makeSelfSignedCert, opensslAvailable } from './support/test-pki.ts';
import { createBouncer, getBouncer } from '../src/store/bouncers.ts';
import { refusedRequests } from '../src/store/refused-requests.ts';

/**
 * `vigil doctor` against the real `vigil serve` (in-process, port 0) and real failures built on
 * loopback and in a temporary folder: each failure the issue lists, one test each, through the CLI
 * entry point (`main`) with `-o json`, so the finding ids, statuses, evidence and exit codes are
 * what an operator's script would see.
 */

const KEY = 'doctor-test-key-0123456789abcdef';
const TIMEOUTS = ['--timeout', '700ms'];

let dir: string;
let server: RunningServer;
let lapi: string; // http://127.0.0.1:PORT/

const vigil = cliRunner(() => ({ cwd: dir }));

/** Runs doctor on the given files with -o json, service checks off unless asked. */
async function doctor(args: string[], opts: { service?: boolean } = {}): Promise<{ code: number; report: DoctorReport; findings: Finding[] }> {
  const r = await vigil('doctor', '-o', 'json', ...TIMEOUTS, ...(opts.service ? [] : ['--no-service-checks']), ...args);
  expect(r.err).toBe('');
  const report = JSON.parse(r.out) as DoctorReport;
  return { code: r.code, report, findings: report.targets.flatMap((t) => t.findings) };
}

const find = (findings: Finding[], check: string, status?: string) => findings.filter((f) => f.check === check && (!status || f.status === status));

function writeFile(name: string, text: string, mode = 0o600): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text, { mode });
  fs.chmodSync(p, mode);
  return p;
}

const yamlConfig = (url: string, key = KEY, extra = '') =>
  `# as shipped by crowdsec-custom-bouncer, trimmed\nbin_path: /usr/bin/true\nupdate_frequency: 10s\nlog_mode: stdout\napi_url: ${url}\napi_key: ${key}\n${extra}`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-doctor-'));
  const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: `sqlite:${path.join(dir, 'vigil.db')}`, metricsListen: '127.0.0.1:0' }, env: {}, cwd: dir });
  config.health.evaluateEveryMs = 0;
  server = await startServer(config, { log: createLogger('silent') });
  lapi = `${server.url}/`;
  await createBouncer(server.store, { name: 'web-bouncer', apiKeyHash: hashApiKey(KEY), now: Date.now() });
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('vigil doctor: a healthy configuration', () => {
  it("passes every check against vigil serve, exit 0, without moving the bouncer's last pull", async () => {
    const file = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(lapi));
    const { code, report, findings } = await doctor([file]);
    expect(findings.filter((f) => f.status !== 'ok')).toEqual([]);
    expect(code).toBe(0);
    expect(report.passed).toBe(true);
    expect(findings.map((f) => f.check)).toEqual([
      'file.present',
      'file.syntax',
      'config.keys',
      'file.permissions',
      'url.form',
      'network.tcp',
      'lapi.health',
      'lapi.key',
    ]);
    expect(find(findings, 'lapi.key')[0].title).toMatch(/^key doct…\(32 chars\) accepted: HEAD \/v1\/decisions → 200$/);
    // The key is never printed whole.
    expect(JSON.stringify(report)).not.toContain(KEY);
    await server.activity.flush();
    const b = await getBouncer(server.store, 'web-bouncer');
    expect(b?.lastPullAt).toBeNull();
    // Doctor's key check is a probe (issue 24): evidence, never a sign of life.
    expect(b?.lastRequestAt).toBeNull();
    expect((await lastProbes(server.store, [b!.id])).get(b!.id)).toMatchObject({
      method: 'HEAD',
      path: '/v1/decisions',
      userAgent: 'crowdsec-custom-bouncer/vigil-doctor',
    });
  });

  it('merges FILE.local over FILE as the bouncers do: the key in .local wins, the main file keeps the placeholder', async () => {
    const file = writeFile('crowdsec-firewall-bouncer.yaml', yamlConfig(lapi, '${API_KEY}', 'mode: ${BACKEND}\n'), 0o644);
    writeFile('crowdsec-firewall-bouncer.yaml.local', `mode: nftables\napi_key: ${KEY}\n`, 0o600);
    const { code, findings } = await doctor([file]);
    expect(code).toBe(0);
    expect(find(findings, 'config.keys')[0].title).toContain(`crowdsec-firewall-bouncer.yaml.local:2 (api_key)`);
    expect(find(findings, 'lapi.key', 'ok')).toHaveLength(1);
  });

  it('prints a readable report with a one-line summary', async () => {
    const file = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(lapi));
    const r = await vigil('doctor', '--no-service-checks', ...TIMEOUTS, file);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${file} (custom)\n  ok   file    ${file} present`);
    expect(r.out.trimEnd().split('\n').pop()).toBe('PASS 1 configuration checked: 8 ok, 0 warnings, 0 failed, 0 not checked');
    expect(r.out).not.toMatch(/\x1b\[/); // no colour when not on a terminal
    let tty = '';
    const code = await main(['doctor', '--no-service-checks', ...TIMEOUTS, file], {
      stdout: (t) => (tty += t),
      stderr: () => {},
      env: {},
      cwd: dir,
      isTTY: true,
      clock: systemClock,
    });
    expect(code).toBe(0);
    expect(tty).toContain('\x1b[32mok  \x1b[39m');
    expect(tty).toContain('\x1b[32mPASS\x1b[39m');
  });
});

describe('vigil doctor: each failure, built for real', () => {
  it('a missing file', async () => {
    const { code, findings } = await doctor([path.join(dir, 'nope.yaml')]);
    expect(code).toBe(1);
    const missing = find(findings, 'file.present', 'fail')[0];
    expect(missing.title).toBe(`${path.join(dir, 'nope.yaml')} does not exist`);
    // A typo first: what the folder holds, before reinstalling anything.
    expect(missing.fix).toMatch(new RegExp(`^check the path for a typo \\(${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} holds `));
    expect(findings).toHaveLength(1);
  });

  it('a missing configuration directory', async () => {
    const { code, findings } = await doctor(['--dir', path.join(dir, 'no-such-dir')]);
    expect(code).toBe(1);
    expect(find(findings, 'file.discover', 'fail')[0].fix).toContain('--config FILE');
  });

  it('bad YAML: line and column, the line itself, and a caret', async () => {
    const file = writeFile('bad.yaml', 'api_url: http://127.0.0.1:8080/\n api_key: abc\nlog_mode: stdout\n');
    const { code, findings } = await doctor([file]);
    expect(code).toBe(1);
    const f = find(findings, 'file.syntax', 'fail')[0];
    expect(f.title).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:2:\\d+: `));
    expect(f.evidence[0]).toBe('   2 |  api_key: abc');
    expect(f.evidence[1]).toMatch(/^ {4} \| *\^$/);
    // Nothing is probed with a configuration the bouncer cannot read.
    expect(findings.some((x) => x.stage === 'network' || x.stage === 'lapi')).toBe(false);
  });

  it('a duplicate key, refused as the bouncers refuse it', async () => {
    const file = writeFile('dup.yaml', `api_url: ${lapi}\napi_key: a\napi_key: b\n`);
    const f = find((await doctor([file])).findings, 'file.syntax', 'fail')[0];
    expect(f.title).toMatch(/dup\.yaml:3:1: Map keys must be unique/);
  });

  it('an unreplaced ${API_KEY} placeholder', async () => {
    const file = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(lapi, '${API_KEY}'));
    const { code, findings } = await doctor([file]);
    expect(code).toBe(1);
    const f = find(findings, 'config.placeholder', 'fail')[0];
    expect(f.title).toBe(`api_key is the unreplaced placeholder \${API_KEY} (${file}:6)`);
    expect(f.fix).toContain(`${file}.local as "api_key: <key>"`);
    // The placeholder is not sent to the Local API as a key: that check is reported as not made.
    expect(find(findings, 'lapi.key').map((x) => `${x.status}: ${x.title}`)).toEqual([
      'skip: no usable API key in the configuration: the Local API was not asked about it',
    ]);
    expect(find(findings, 'lapi.health', 'ok')).toHaveLength(1);
  });

  it('a world-readable file holding the key', async () => {
    const file = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(lapi), 0o644);
    const { code, findings } = await doctor([file]);
    expect(code).toBe(1);
    const f = find(findings, 'file.permissions', 'warn')[0];
    expect(f.title).toBe(`${file} holds the API key and is readable by every local user`);
    expect(f.evidence[0]).toMatch(/mode 0644/);
    expect(f.fix).toBe(`sudo chmod 600 ${file}`);
  });

  it("a file the web server's user cannot read", async () => {
    const file = writeFile('crowdsec-nginx-bouncer.conf', `API_URL=${server.url}\nAPI_KEY=${KEY}\n`, 0o600);
    fs.chownSync(file, 0, 0);
    const { findings } = await doctor([file, '--service-user', 'nobody']);
    const f = find(findings, 'file.permissions', 'fail')[0];
    expect(f.title).toBe(`${file} is not readable by nobody, the user the bouncer reads it as`);
    expect(f.fix).toBe(`sudo chown root:nobody ${file} && sudo chmod 640 ${file}`);
  });

  it('a port with nothing listening: connection refused', async () => {
    const port = await closedPort();
    const file = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(`http://127.0.0.1:${port}/`));
    const { code, findings } = await doctor([file]);
    expect(code).toBe(1);
    const f = find(findings, 'network.tcp', 'fail')[0];
    expect(f.title).toBe(`connection refused at 127.0.0.1:${port}: nothing listens there`);
    expect(f.evidence[0]).toBe(`connect 127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('a server that accepts the connection and never answers', async () => {
    const silent = await startSilentServer();
    try {
      const file = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(`http://127.0.0.1:${silent.port}/`));
      const { code, findings } = await doctor([file]);
      expect(code).toBe(1);
      expect(find(findings, 'network.tcp', 'ok')).toHaveLength(1);
      const f = find(findings, 'lapi.health', 'fail')[0];
      expect(f.title).toBe(
        `127.0.0.1:${silent.port} accepts connections but never answers (GET http://127.0.0.1:${silent.port}/health: no response within 700 ms)`,
      );
      expect(f.ms).toBeGreaterThanOrEqual(650);
    } finally {
      await silent.close();
    }
  });

  it('a host name that does not resolve: DNS failure', async () => {
    const file = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig('http://lapi.doctor-test.invalid:8080/'));
    const { code, findings } = await doctor([file]);
    expect(code).toBe(1);
    const f = find(findings, 'network.dns', 'fail')[0];
    expect(f.title).toMatch(/^lapi\.doctor-test\.invalid does not resolve: lookup lapi\.doctor-test\.invalid: /);
    expect(find(findings, 'network.tcp')).toEqual([]);
  });

  it('a wrong key: 403 from the Local API', async () => {
    const file = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(lapi, 'not-a-registered-key-000000000000'));
    const { code, findings } = await doctor([file]);
    expect(code).toBe(1);
    const f = find(findings, 'lapi.key', 'fail')[0];
    expect(f.title).toBe('key not-…(33 chars) refused: HEAD /v1/decisions → 403 access forbidden');
    expect(f.fix).toContain(`put the new key in ${file}:6 (api_key)`);
    // The Local API kept a trace of the refusal (what its health engine explains silences with).
    await server.activity.flush();
    const refused = await refusedRequests(server.store, { limit: 1 });
    expect(refused[0]).toMatchObject({ method: 'HEAD', path: '/v1/decisions', reason: 'unknown', userAgent: 'crowdsec-custom-bouncer/vigil-doctor' });
  });

  it('a missing trailing slash: a warning for the YAML (Go) bouncers', async () => {
    const file = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(server.url));
    const { code, findings } = await doctor([file]);
    expect(code).toBe(1);
    const f = find(findings, 'url.trailing-slash', 'warn')[0];
    expect(f.title).toBe('api_url has no trailing "/" (the seed\'s common configuration error)');
    expect(f.fix).toBe(`end api_url with "/": ${server.url}/`);
    // go-cs-bouncer adds it: the key still works at the right path.
    expect(find(findings, 'lapi.key', 'ok')).toHaveLength(1);
  });

  it('a trailing slash for the Lua (nginx) bouncer: it requests //v1/decisions…, which answers 404', async () => {
    const file = writeFile('crowdsec-nginx-bouncer.conf', `# nginx bouncer\nAPI_URL=${lapi}\nAPI_KEY=${KEY}\nMODE=stream\n`);
    const { code, findings } = await doctor([file]);
    expect(code).toBe(1);
    expect(find(findings, 'url.trailing-slash', 'fail')[0].fix).toBe(`remove the trailing slash: API_URL=${server.url}`);
    const key = find(findings, 'lapi.key', 'fail')[0];
    expect(key.title).toBe("HEAD //v1/decisions → 404: the bouncer's request path does not exist on the Local API");
    expect(key.evidence).toContain('HEAD /v1/decisions → 200 (the key itself is accepted)');
  });

  it('a bouncer deleted on the Local API: its key, accepted before, is refused after', async () => {
    const key = 'key-of-a-bouncer-about-to-go-0001';
    await createBouncer(server.store, { name: 'doomed', apiKeyHash: hashApiKey(key), now: Date.now() });
    const file = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(lapi, key));
    expect((await doctor([file])).code).toBe(0);
    expect((await vigil('--db', `sqlite:${path.join(dir, 'vigil.db')}`, 'bouncers', 'delete', 'doomed')).code).toBe(0);
    await server.activity.flush();
    // The server's key cache forgets a deleted bouncer once it sees the store change.
    const result = await until(
      'doctor to see the deleted key refused',
      async () => {
        const r = await doctor([file]);
        return r.code !== 0 ? r : undefined;
      },
      undefined,
      5_000,
      100,
    );
    expect(result.code).toBe(1);
    expect(find(result.findings, 'lapi.key', 'fail')[0].evidence[1]).toBe(
      'the Local API knows no bouncer with this key: a wrong key, a revoked one, or the bouncer was deleted',
    );
  });

  it('an http:// URL to a TLS port, and an https:// URL to a plain port', async () => {
    if (!opensslAvailable() && !process.env.CI) return;
    const tlsServer = await startSelfSignedTlsServer(makeSelfSignedCert(dir));
    try {
      const a = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(`http://127.0.0.1:${tlsServer.port}/`));
      const fa = find((await doctor([a])).findings, 'lapi.health', 'fail')[0];
      expect(fa.title).toBe(`127.0.0.1:${tlsServer.port} closed the connection on plain HTTP: it speaks TLS`);
      expect(fa.fix).toBe(`use https:// in the URL: https://127.0.0.1:${tlsServer.port}/`);
      const b = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(`https://${server.url.slice('http://'.length)}/`));
      const fb = find((await doctor([b])).findings, 'network.tls', 'fail')[0];
      expect(fb.title).toMatch(/TLS handshake with 127\.0\.0\.1:\d+ failed: the port speaks plain HTTP$/);
    } finally {
      await tlsServer.close();
    }
  });

  it('--url and --key without any file', async () => {
    const good = await doctor(['--url', lapi, '--key', KEY]);
    expect(good.code).toBe(0);
    expect(good.findings.map((f) => `${f.check}:${f.status}`)).toEqual(['url.form:ok', 'network.tcp:ok', 'lapi.health:ok', 'lapi.key:ok']);
    const bad = await doctor(['--url', lapi, '--key', 'wrong']);
    expect(find(bad.findings, 'lapi.key', 'fail')).toHaveLength(1);
    const usage = await vigil('doctor', '--key', 'x');
    expect(usage.code).toBe(1);
    expect(usage.err).toBe('level=fatal msg="--key needs --url (the key of a configuration file is read from the file)"\n');
  });
});

describe.skipIf(!opensslAvailable() && !process.env.CI)('vigil doctor: TLS, with a self-signed certificate made by openssl', () => {
  let tlsServer: Closable;
  let certPath: string;
  beforeAll(async () => {
    const cert = makeSelfSignedCert(dir);
    certPath = cert.certPath;
    tlsServer = await startSelfSignedTlsServer(cert, server.url);
  });
  afterAll(async () => tlsServer?.close());

  it('rejects the certificate, says why, and still checks the key behind it', async () => {
    const file = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(`https://localhost:${tlsServer.port}/`));
    const { code, findings } = await doctor([file]);
    expect(code).toBe(1);
    const f = find(findings, 'network.tls', 'fail')[0];
    expect(f.title).toBe('certificate rejected: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)');
    expect(f.evidence).toContain('subject CN=localhost');
    expect(f.fix).toContain('ca_cert_path');
    expect(find(findings, 'lapi.key', 'ok')).toHaveLength(1);
  });

  it('accepts it with ca_cert_path, and warns with insecure_skip_verify', async () => {
    const withCa = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(`https://localhost:${tlsServer.port}/`, KEY, `ca_cert_path: ${certPath}\n`));
    const a = await doctor([withCa]);
    expect(find(a.findings, 'network.tls')[0]).toMatchObject({ status: 'ok', title: 'TLS TLSv1.3 with a certificate that verifies for localhost' });
    expect(a.code).toBe(0);
    const insecure = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(`https://localhost:${tlsServer.port}/`, KEY, 'insecure_skip_verify: true\n'));
    const b = await doctor([insecure]);
    expect(find(b.findings, 'network.tls')[0].status).toBe('warn');
    expect(find(b.findings, 'lapi.key', 'ok')).toHaveLength(1);
  });

  it('names a host name the certificate does not cover', async () => {
    const r = await probeTls('127.0.0.1', tlsServer.port, { servername: 'lapi.example', timeoutMs: 2000, ca: fs.readFileSync(certPath, 'utf8') });
    expect(r.ok && r.authorizationError).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});

describe('network probes tell the failures apart', () => {
  const filter = packetFilterAvailable();

  it('refused, no answer, and an answer', async () => {
    const port = await closedPort();
    expect(await probeTcp('127.0.0.1', port, { timeoutMs: 500 })).toMatchObject({ ok: false, kind: 'refused', code: 'ECONNREFUSED' });
    const silent = await startSilentServer();
    try {
      expect(await probeTcp('127.0.0.1', silent.port, { timeoutMs: 500 })).toMatchObject({ ok: true });
      expect(await probeHttp(`http://127.0.0.1:${silent.port}/health`, { connectMs: 500, answerMs: 300 })).toMatchObject({ ok: false, kind: 'no-answer' });
    } finally {
      await silent.close();
    }
    expect(await probeHttp(`${lapi}health`, { connectMs: 500, answerMs: 500 })).toMatchObject({ ok: true, status: 200, body: '{"status":"up"}' });
  });

  it.skipIf(!filter.available && !process.env.CI)(
    `timed out (packets dropped) and unreachable (ICMP), with nftables on loopback ${filter.reason ?? ''}`,
    async () => {
      const pf = startPacketFilter();
      try {
        const [dropped, hostUnreach, netUnreach] = [await closedPort(), await closedPort(), await closedPort()];
        pf.drop(dropped);
        pf.reject(hostUnreach, 'host-unreachable');
        pf.reject(netUnreach, 'no-route');
        expect(await probeTcp('127.0.0.1', dropped, { timeoutMs: 400 })).toMatchObject({ ok: false, kind: 'connect-timeout' });
        expect(await probeTcp('127.0.0.1', hostUnreach, { timeoutMs: 2000 })).toMatchObject({ ok: false, kind: 'unreachable', code: 'EHOSTUNREACH' });
        expect(await probeTcp('127.0.0.1', netUnreach, { timeoutMs: 2000 })).toMatchObject({ ok: false, kind: 'unreachable', code: 'ENETUNREACH' });
        // And through doctor, with the finding's wording.
        const file = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(`http://127.0.0.1:${dropped}/`));
        const timedOut = find((await doctor([file])).findings, 'network.tcp', 'fail')[0];
        expect(timedOut.title).toBe(`timed out connecting to 127.0.0.1:${dropped}: packets are dropped on the way`);
        const file2 = writeFile('crowdsec-custom-bouncer.yaml', yamlConfig(`http://127.0.0.1:${hostUnreach}/`));
        const unreachable = find((await doctor([file2])).findings, 'network.tcp', 'fail')[0];
        expect(unreachable.title).toBe(`127.0.0.1:${hostUnreach} is unreachable (EHOSTUNREACH): no route to it from here`);
      } finally {
        pf.remove();
      }
    },
  );
});
