import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestFrom } from './support/http-from.ts';
import { startVigilServe, type VigilServe } from './support/vigil-serve.ts';

/**
 * `vigil serve` configured the way CrowdSec's container is (docs/configuration.md § Environment):
 * bouncers from BOUNCER_KEY_<name>, a key file and a Docker secret, the agent from AGENT_USERNAME /
 * AGENT_PASSWORD, `${VAR}` in vigil.yaml and a vigil.yaml.local overlay. Then a restart with a rotated
 * key: the new key works, the old one is refused. No key or password is ever in the log.
 */
const UA = 'crowdsec/v1.6.4-debian';
const FW_KEY = 'fw-key-0123456789abcdef';
const FW_ROTATED = 'fw-key-rotated-fedcba9876543210';
const WEB_KEY = 'web-key-0123456789abcdef';
const CADDY_KEY = 'caddy-key-0123456789abcdef';
const AGENT_PASSWORD = 'agent-password-0123456789';
const TOKEN = 'reg-token-'.padEnd(40, 'x');

describe('vigil serve from the environment', () => {
  let dir: string;
  let vigil: VigilServe | undefined;
  let logs = '';
  const db = () => `sqlite:${path.join(dir, 'vigil.db')}`;
  const start = async (env: NodeJS.ProcessEnv) => {
    vigil = await startVigilServe({
      workDir: dir,
      db: db(),
      configLines: ['api:', '  auto_registration:', '    enabled: true', '    token: ${REGISTRATION_TOKEN}', '    allowed_ranges: [127.0.0.1/32]'],
      env,
    });
    return vigil;
  };
  const pull = (key: string) =>
    requestFrom(`${vigil!.url}v1/decisions/stream?startup=true`, { headers: { 'X-Api-Key': key, 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.28' } });
  const post = (p: string, body: unknown) =>
    requestFrom(`${vigil!.url}${p}`, { method: 'POST', headers: { 'User-Agent': UA, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  const secrets = () => path.join(dir, 'secrets');
  const baseEnv = (): NodeJS.ProcessEnv => ({
    BOUNCER_KEY_fw: FW_KEY,
    BOUNCER_KEY_web_FILE: path.join(dir, 'web.key'),
    VIGIL_SECRETS_DIR: secrets(),
    AGENT_USERNAME: 'agent-1',
    AGENT_PASSWORD,
    REGISTRATION_TOKEN: TOKEN,
  });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-serve-env-'));
    fs.mkdirSync(secrets());
    fs.writeFileSync(path.join(dir, 'web.key'), `${WEB_KEY}\n`);
    fs.writeFileSync(path.join(secrets(), 'bouncer_key_caddy'), `${CADDY_KEY}\n`);
    await start(baseEnv());
  }, 60_000);

  afterAll(async () => {
    await vigil?.stop();
  });

  it('registers the bouncers and the agent, and expands ${REGISTRATION_TOKEN}', async () => {
    for (const key of [FW_KEY, WEB_KEY, CADDY_KEY]) expect((await pull(key)).status).toBe(200);
    expect((await pull('not-a-key-0123456789')).status).toBe(403);
    const login = await post('v1/watchers/login', { machine_id: 'agent-1', password: AGENT_PASSWORD, scenarios: [] });
    expect(login.status, login.text).toBe(200);
    const auto = await post('v1/watchers', { machine_id: 'auto-1', password: 'secretpassword123', registration_token: TOKEN });
    expect(auto.status, auto.text).toBe(202);
    const names = (JSON.parse(await vigil!.cli('bouncers', 'list', '-o', 'json')) as { name: string }[]).map((b) => b.name).sort();
    expect(names).toEqual(['caddy', 'fw', 'web']);
    // The dashboard is on (the default) until the overlay below turns it off.
    expect((await requestFrom(`${vigil!.url}ui/`)).status).not.toBe(404);
  }, 60_000);

  it('after a restart with a rotated key and a vigil.yaml.local, the new key works, the old one is refused, the overlay applies', async () => {
    logs += vigil!.logs();
    await vigil!.stop();
    vigil = await startVigilServe({
      workDir: dir,
      db: db(),
      configLines: ['api:', '  auto_registration:', '    enabled: true', '    token: ${REGISTRATION_TOKEN}'],
      // The dashboard is on the Local API listener by default: the overlay turns it off.
      overlayLines: ['admin_listen: ${ADMIN_LISTEN:-off}'],
      env: { ...baseEnv(), BOUNCER_KEY_fw: FW_ROTATED },
    });
    expect((await pull(FW_ROTATED)).status).toBe(200);
    expect((await pull(FW_KEY)).status).toBe(403);
    expect((await pull(WEB_KEY)).status).toBe(200);
    expect((await requestFrom(`${vigil.url}ui/`)).status).toBe(404);
    logs += vigil.logs();
    expect(logs).toContain("bouncer 'fw' given its new key from BOUNCER_KEY_fw");
    expect(logs).toContain("bouncer 'caddy' registered from");
    expect(logs).toContain("machine 'agent-1' registered from AGENT_USERNAME + AGENT_PASSWORD");
    for (const secret of [FW_KEY, FW_ROTATED, WEB_KEY, CADDY_KEY, AGENT_PASSWORD, TOKEN]) expect(logs).not.toContain(secret);
  }, 60_000);

  it('an unset variable stops the start, naming it, the file and the key', async () => {
    const env = { ...baseEnv() };
    delete env.REGISTRATION_TOKEN;
    await expect(start(env)).rejects.toThrow(/api\.auto_registration\.token: environment variable REGISTRATION_TOKEN is not set/);
  }, 60_000);
});
