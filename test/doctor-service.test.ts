import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { loadConfig } from '../src/config/config.ts';
import { runDoctor } from '../src/doctor/doctor.ts';
import type { Finding } from '../src/core/doctor/finding.ts';
import { execHost, localHost, runCommand } from '../src/doctor/host.ts';
import { createLogger, startServer, type RunningServer } from '../src/app/serve.ts';
import { crowdsecBouncersAvailable } from './support/crowdsec-bouncers.ts';
import { until } from './support/wait.ts';
import { createBouncer } from '../src/store/bouncers.ts';

/**
 * The service stage against real processes: the real crowdsec-custom-bouncer (Debian package)
 * running with `log_mode: file` against `vigil serve`, with a wrong key and then a right one; the
 * process table and the log file read from /proc and disk; systemd's absence reported as "not
 * checked"; and the same checks through the `docker exec` wrapper (a stand-in `docker` on PATH
 * that runs the command locally, since no Docker daemon runs here).
 */
const KEY = 'service-test-key-0123456789abcdef';
const bouncers = crowdsecBouncersAvailable();
const systemd = fs.existsSync('/run/systemd/system');

let dir: string;
let server: RunningServer;
const children: ChildProcess[] = [];

const opts = (file: string) => ({
  host: localHost(),
  configFiles: [file],
  timeouts: { connectMs: 1000, answerMs: 1000 },
  userAgent: 'vigil-doctor-test',
});
const byCheck = (findings: Finding[], check: string) => findings.filter((f) => f.check === check);

function bouncerConfig(name: string, key: string, fileName = 'crowdsec-custom-bouncer.yaml'): string {
  const sub = fs.mkdtempSync(path.join(dir, `${name}-`));
  const file = path.join(sub, fileName);
  fs.writeFileSync(
    file,
    [
      'bin_path: /usr/bin/true',
      'update_frequency: 500ms',
      'daemonize: false',
      'log_mode: file',
      `log_dir: ${sub}/`,
      'log_level: info',
      `api_url: ${server.url}/`,
      `api_key: ${key}`,
      'prometheus: {enabled: false, listen_addr: 127.0.0.1, listen_port: 60602}',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return file;
}

async function startBouncer(file: string, logLine: RegExp): Promise<ChildProcess> {
  const child = spawn('crowdsec-custom-bouncer', ['-c', file], { stdio: 'ignore' });
  children.push(child);
  const log = path.join(path.dirname(file), 'crowdsec-custom-bouncer.log');
  const text = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
  await until(
    `${logLine} in ${log}`,
    () => {
      if (child.exitCode !== null) throw new Error(`crowdsec-custom-bouncer exited ${child.exitCode}: ${text()}`);
      return logLine.test(text()) || undefined;
    },
    text,
    10_000,
    50,
  );
  return child;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-doctor-svc-'));
  const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: `sqlite:${path.join(dir, 'vigil.db')}`, metricsListen: '127.0.0.1:0' }, env: {}, cwd: dir });
  config.health.evaluateEveryMs = 0;
  server = await startServer(config, { log: createLogger('silent') });
  await createBouncer(server.store, { name: 'custom', apiKeyHash: hashApiKey(KEY), now: Date.now() });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('doctor: the service stage on this host', () => {
  it(`reports systemd honestly: ${systemd ? 'a unit state' : '"not checked" when systemd is not running'}`, async () => {
    const file = path.join(dir, 'crowdsec-cloudflare-bouncer.yaml');
    fs.writeFileSync(file, `crowdsec_lapi_url: ${server.url}/\ncrowdsec_lapi_key: ${KEY}\n`, { mode: 0o600 });
    const report = await runDoctor(opts(file));
    const unit = byCheck(report.targets[0].findings, 'service.unit')[0];
    if (systemd) {
      expect(unit.status).not.toBe('skip');
    } else {
      expect(unit.status).toBe('skip');
      expect(unit.title).toMatch(/^systemd is not running on this host \(PID 1 is .+\): unit crowdsec-cloudflare-bouncer\.service not checked$/);
      // Not a pass: the summary counts it apart, and the process is looked for instead.
      expect(report.summary.skip).toBeGreaterThanOrEqual(1);
      const proc = byCheck(report.targets[0].findings, 'service.process')[0];
      expect(proc).toMatchObject({ status: 'fail', title: 'no crowdsec-cloudflare-bouncer process is running on this host' });
    }
  });

  it.skipIf(!bouncers.custom && !process.env.CI)(
    `finds the real custom bouncer, its process and its log: a wrong key, then a good one ${bouncers.reason ?? ''}`,
    async () => {
      const wrong = bouncerConfig('wrong', 'not-the-registered-key-0000000000');
      const child = await startBouncer(wrong, /access forbidden/);
      const bad = (await runDoctor(opts(wrong))).targets[0].findings;
      expect(byCheck(bad, 'lapi.key')[0].status).toBe('fail');
      const proc = byCheck(bad, 'service.process')[0];
      expect(proc.status).toBe('ok');
      expect(proc.title).toContain(`(pid ${child.pid}`);
      const logs = byCheck(bad, 'service.logs')[0];
      expect(logs.status).toBe('fail');
      expect(logs.title).toBe(`${path.dirname(wrong)}/crowdsec-custom-bouncer.log: authentication failed (401/403: key unknown, revoked or bouncer deleted)`);
      expect(logs.evidence[0]).toMatch(/level=error msg="API error: access forbidden"$/);
      expect(logs.fix).toMatch(/^re-register the bouncer/);

      // The right key: the same bouncer binary pulls, its log shows no failure.
      const good = bouncerConfig('good', KEY);
      await startBouncer(good, /adding '0' decisions/);
      const fine = (await runDoctor(opts(good))).targets[0].findings;
      expect(fine.filter((f) => f.status === 'fail' || f.status === 'warn')).toEqual([]);
      expect(byCheck(fine, 'service.logs')[0].title).toMatch(/^last \d+ log lines of .*crowdsec-custom-bouncer\.log: none of the failure signatures$/);

      // A configuration no running bouncer reads: the process check says which file they read.
      const unused = bouncerConfig('unused', KEY);
      const orphan = byCheck((await runDoctor(opts(unused))).targets[0].findings, 'service.process')[0];
      expect(orphan.status).toBe('fail');
      expect(orphan.title).toContain(`no crowdsec-custom-bouncer process reads ${unused}`);
    },
  );

  it.skipIf(!bouncers.custom && !process.env.CI)(
    `finds the real custom bouncer by its config path when the file is not named after it (custom.yaml) ${bouncers.reason ?? ''}`,
    async () => {
      const file = bouncerConfig('renamed', KEY, 'custom.yaml');
      const child = await startBouncer(file, /adding '0' decisions/);
      const findings = (await runDoctor(opts(file))).targets[0].findings;
      const proc = byCheck(findings, 'service.process')[0];
      if (!systemd) expect(proc).toMatchObject({ status: 'ok', title: `crowdsec-custom-bouncer is running with this file (pid ${child.pid})` });
      // Its log is the binary's (<log_dir>/crowdsec-custom-bouncer.log), not custom.log.
      expect(byCheck(findings, 'service.logs')[0].title).toBe(
        `last ${byCheck(findings, 'service.logs')[0].title.match(/^last (\d+)/)?.[1]} log lines of ${path.dirname(file)}/crowdsec-custom-bouncer.log: none of the failure signatures`,
      );
      expect(findings.filter((f) => f.status === 'fail' || f.status === 'warn')).toEqual([]);
    },
  );

  it('suggests --service and --log-file when no process matches the name it guessed', async () => {
    const file = path.join(dir, 'my-edge.yaml');
    fs.writeFileSync(file, `api_url: ${server.url}/\napi_key: ${KEY}\n`, { mode: 0o600 });
    const proc = byCheck((await runDoctor(opts(file))).targets[0].findings, systemd ? 'service.unit' : 'service.process')[0];
    expect(proc.status).toBe('fail');
    expect(proc.fix).toContain('--service NAME --log-file FILE');
  });

  it('reads a systemd unit and its journal (a stand-in systemd: none runs here)', async () => {
    const file = path.join(dir, 'crowdsec-custom-bouncer.yaml');
    fs.writeFileSync(file, `api_url: ${server.url}/\napi_key: ${KEY}\nlog_mode: stdout\n`, { mode: 0o600 });
    const commands: string[] = [];
    const show = (active: string) =>
      `User=\nNRestarts=3\nExecMainStatus=1\nResult=exit-code\nLoadState=${active === 'missing' ? 'not-found' : 'loaded'}\nActiveState=${active}\nSubState=${active === 'active' ? 'running' : 'failed'}\nUnitFileState=disabled\nActiveEnterTimestamp=Tue 2026-11-24 05:00:00 UTC\n`;
    let state = 'failed';
    const real = localHost();
    const host = {
      ...real,
      init: async () => ({ systemd: true, pid1: 'systemd' }),
      which: async (cmd: string) => (cmd === 'systemctl' ? '/usr/bin/systemctl' : real.which(cmd)),
      run: async (cmd: string, args: string[]) => {
        commands.push(`${cmd} ${args.join(' ')}`);
        if (cmd === 'systemctl') return { code: 0, stdout: show(state), stderr: '' };
        if (cmd === 'journalctl') {
          return {
            code: 0,
            stdout: '2026-11-24T05:20:40+0000 web crowdsec-custom-bouncer[812]: time="24-11-2026 05:20:40" level=error msg="API error: access forbidden"\n',
            stderr: '',
          };
        }
        return real.run(cmd, args);
      },
    };
    const f = (await runDoctor({ ...opts(file), host })).targets[0].findings;
    expect(byCheck(f, 'service.unit')[0]).toMatchObject({
      status: 'fail',
      title: 'crowdsec-custom-bouncer.service is failed (failed) since Tue 2026-11-24 05:00:00 UTC',
    });
    expect(byCheck(f, 'service.unit')[0].fix).toBe('sudo systemctl restart crowdsec-custom-bouncer && sudo systemctl enable crowdsec-custom-bouncer');
    expect(byCheck(f, 'service.restarts')[0].title).toBe('crowdsec-custom-bouncer.service was restarted 3 time(s) by systemd');
    expect(byCheck(f, 'service.enabled')[0].status).toBe('warn');
    expect(byCheck(f, 'service.logs')[0].title).toBe(
      'journalctl -u crowdsec-custom-bouncer: authentication failed (401/403: key unknown, revoked or bouncer deleted)',
    );
    expect(commands).toContain('journalctl -u crowdsec-custom-bouncer.service -n 200 --no-pager -o short-iso');
    state = 'missing';
    const g = (await runDoctor({ ...opts(file), host })).targets[0].findings;
    expect(byCheck(g, 'service.unit')[0].title).toBe('no systemd unit crowdsec-custom-bouncer.service on this host');
  });

  it('looks inside a container through docker exec (a stand-in docker on PATH)', async () => {
    const bin = fs.mkdtempSync(path.join(dir, 'bin-'));
    const calls = path.join(bin, 'calls.log');
    // `docker exec -i NAME CMD ARGS…` → runs CMD ARGS… here, and records the call.
    fs.writeFileSync(
      path.join(bin, 'docker'),
      `#!/bin/sh\necho "$*" >> ${calls}\n[ "$1" = exec ] || exit 2\nshift; [ "$1" = -i ] && shift; shift\nexec "$@"\n`,
      { mode: 0o755 },
    );
    const runner = (cmd: string, args: string[], o?: { timeoutMs?: number }) =>
      runCommand(cmd, args, { ...o, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    const file = path.join(dir, 'crowdsec-firewall-bouncer.yaml');
    fs.writeFileSync(file, `mode: nftables\napi_url: ${server.url}/\napi_key: \${API_KEY}\n`, { mode: 0o644 });
    fs.writeFileSync(`${file}.local`, `api_key: ${KEY}\n`, { mode: 0o600 });
    const report = await runDoctor({ ...opts(file), host: execHost('docker', { name: 'fw-bouncer' }, runner) });
    expect(report.where).toBe('docker container fw-bouncer');
    const f = report.targets[0].findings;
    expect(byCheck(f, 'config.keys')[0].status).toBe('ok');
    expect(byCheck(f, 'file.permissions').map((x) => x.status)).toEqual(['ok', 'ok']);
    expect(byCheck(f, 'lapi.key')[0].status).toBe('ok');
    expect(byCheck(f, 'network.tcp')[0].evidence).toContain('probed from the machine doctor runs on, not from inside docker container fw-bouncer');
    const recorded = fs.readFileSync(calls, 'utf8');
    expect(recorded).toContain(`exec -i fw-bouncer cat -- ${file}`);
    expect(recorded).toContain(`exec -i fw-bouncer stat -c %a %u %g %s %F -- ${file}.local`);
  });
});
