import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runVigil } from './support/cli.ts';

/**
 * `vigil doctor` on a CrowdSec switched to Vigil (issue 29 item 4): its Local API off
 * (`api.server.enable: false`, the documented switching step) while its online_client credentials
 * remain means the community blocklist and the Console were lost with the switch: doctor warns,
 * naming both files and the way out (`vigil watch`). The config files are CrowdSec's own shapes.
 */
describe('vigil doctor: a switched CrowdSec that keeps its Console credentials', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-doctor-console-'));
    fs.mkdirSync(path.join(dir, 'bouncers'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const config = (server: string) =>
    `common:\n  daemonize: true\napi:\n  client:\n    credentials_path: ${dir}/local_api_credentials.yaml\n  server:\n    listen_uri: 127.0.0.1:8080\n${server}`;
  const online = () => `    online_client:\n      credentials_path: ${dir}/online_api_credentials.yaml\n`;
  const doctor = async () => {
    const r = await runVigil({ cwd: dir }, ['doctor', '--dir', path.join(dir, 'bouncers'), '--crowdsec-config', path.join(dir, 'config.yaml'), '-o', 'json']);
    return {
      ...r,
      report: JSON.parse(r.out) as {
        targets: Array<{ name: string; family: string; findings: Array<{ check: string; status: string; title: string; evidence: string[]; fix?: string }> }>;
      },
    };
  };
  const crowdsecTarget = (report: Awaited<ReturnType<typeof doctor>>['report']) => report.targets.find((t) => t.family === 'crowdsec');

  it('warns when the Local API is off (config.yaml.local included) and online_api_credentials.yaml holds a login', async () => {
    fs.writeFileSync(path.join(dir, 'config.yaml'), config(online()));
    fs.writeFileSync(path.join(dir, 'config.yaml.local'), 'api:\n  server:\n    enable: false\n');
    fs.writeFileSync(path.join(dir, 'online_api_credentials.yaml'), 'url: https://api.crowdsec.net/\nlogin: 4f1c2b9e8d7a6f5e\npassword: secret\n');
    const { code, report } = await doctor();
    expect(code).toBe(1);
    const t = crowdsecTarget(report)!;
    expect(t.name).toBe(path.join(dir, 'config.yaml'));
    expect(t.findings).toHaveLength(1);
    const f = t.findings[0]!;
    expect([f.check, f.status], f.evidence.join(' / ')).toEqual(['crowdsec.online_client', 'warn']);
    expect(f.title).toContain('community blocklist is no longer pulled and nothing reaches the Console');
    expect(f.evidence.join('\n')).toContain('api.server.enable: false');
    expect(f.evidence.join('\n')).toContain('login 4f1c2b9e8d7a6f5e');
    expect(f.evidence.join('\n')).not.toContain('secret');
    expect(f.fix).toContain('vigil watch');
  });

  it('says the switch lost nothing when there are no online_client credentials, and is silent on a CrowdSec that still runs its Local API', async () => {
    fs.writeFileSync(path.join(dir, 'config.yaml'), config('    enable: false\n'));
    const off = crowdsecTarget((await doctor()).report)!;
    expect(off.findings.map((f) => [f.check, f.status])).toEqual([['crowdsec.online_client', 'ok']]);
    fs.writeFileSync(path.join(dir, 'config.yaml'), config(online()));
    fs.writeFileSync(path.join(dir, 'online_api_credentials.yaml'), 'login: abc\npassword: x\n');
    expect(crowdsecTarget((await doctor()).report)).toBeUndefined();
    fs.rmSync(path.join(dir, 'config.yaml'));
    expect(crowdsecTarget((await doctor()).report)).toBeUndefined();
  });
});
