import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useCleanups } from '../../test/support/cleanups.ts';
import { readEnvRegistrations } from './env-registrations.ts';

describe('bouncers and a machine from the environment (CrowdSec image style)', () => {
  const cleanups = useCleanups();
  let dir: string;
  let secrets: string;
  beforeEach(() => {
    dir = cleanups.tempDir('vigil-env-reg-');
    secrets = path.join(dir, 'secrets');
    fs.mkdirSync(secrets);
  });

  it('reads BOUNCER_KEY_<name>, BOUNCER_KEY_<name>_FILE and secrets bouncer_key_<name>; skips empty ones', () => {
    fs.writeFileSync(path.join(dir, 'web.key'), 'web-key-0123456789\n');
    fs.writeFileSync(path.join(secrets, 'bouncer_key_caddy'), 'caddy-key-0123456789\n');
    fs.writeFileSync(path.join(secrets, 'other_secret'), 'nope');
    const regs = readEnvRegistrations({
      BOUNCER_KEY_fw: 'fw-key-0123456789',
      BOUNCER_KEY_web_FILE: path.join(dir, 'web.key'),
      BOUNCER_KEY_unset: '',
      VIGIL_SECRETS_DIR: secrets,
    });
    expect(regs.bouncers).toEqual([
      { name: 'caddy', key: 'caddy-key-0123456789', from: path.join(secrets, 'bouncer_key_caddy') },
      { name: 'fw', key: 'fw-key-0123456789', from: 'BOUNCER_KEY_fw' },
      { name: 'web', key: 'web-key-0123456789', from: `BOUNCER_KEY_web_FILE (${path.join(dir, 'web.key')})` },
    ]);
    expect(regs.machine).toBeNull();
  });

  it('refuses a bad name, a bad key, an unreadable file and two keys for one name, never printing a key', () => {
    const none = { VIGIL_SECRETS_DIR: secrets };
    expect(() => readEnvRegistrations({ ...none, 'BOUNCER_KEY_a b': 'k' })).toThrow('BOUNCER_KEY_a b: bouncer name "a b"');
    expect(() => readEnvRegistrations({ ...none, BOUNCER_KEY_fw: 'has space secret' })).toThrow(/^BOUNCER_KEY_fw: use 1 to 512 printable/);
    expect(() => readEnvRegistrations({ ...none, BOUNCER_KEY_fw: 'has space secret' })).not.toThrow(/secret/);
    expect(() => readEnvRegistrations({ ...none, BOUNCER_KEY_fw_FILE: '/nonexistent/k' })).toThrow('BOUNCER_KEY_fw_FILE: cannot read /nonexistent/k (ENOENT)');
    fs.writeFileSync(path.join(secrets, 'bouncer_key_fw'), 'other-key-0123456789');
    expect(() => readEnvRegistrations({ ...none, BOUNCER_KEY_fw: 'fw-key-0123456789' })).toThrow(
      `bouncer 'fw' is given two different keys, by BOUNCER_KEY_fw and ${path.join(secrets, 'bouncer_key_fw')}: keep one`,
    );
  });

  it('reads AGENT_USERNAME with AGENT_PASSWORD or AGENT_PASSWORD_FILE, and says what is missing', () => {
    const none = { VIGIL_SECRETS_DIR: secrets };
    expect(readEnvRegistrations({ ...none, AGENT_USERNAME: 'agent-1', AGENT_PASSWORD: 'pw' }).machine).toEqual({
      name: 'agent-1',
      password: 'pw',
      from: 'AGENT_USERNAME + AGENT_PASSWORD',
    });
    fs.writeFileSync(path.join(dir, 'pw'), 'from-file\n');
    expect(readEnvRegistrations({ ...none, AGENT_USERNAME: 'agent-1', AGENT_PASSWORD_FILE: path.join(dir, 'pw') }).machine?.password).toBe('from-file');
    expect(() => readEnvRegistrations({ ...none, AGENT_PASSWORD: 'pw' })).toThrow('AGENT_PASSWORD is set but AGENT_USERNAME is not');
    expect(() => readEnvRegistrations({ ...none, AGENT_USERNAME: 'a' })).toThrow('neither AGENT_PASSWORD nor AGENT_PASSWORD_FILE');
    expect(() => readEnvRegistrations({ ...none, AGENT_USERNAME: 'a', AGENT_PASSWORD: 'x'.repeat(73) })).toThrow('1 to 72 bytes');
  });
});
