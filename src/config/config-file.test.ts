import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useCleanups } from '../../test/support/cleanups.ts';
import { loadConfig } from './config.ts';

describe('vigil.yaml: ${VAR} everywhere and the vigil.yaml.local overlay', () => {
  const cleanups = useCleanups();
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = cleanups.tempDir('vigil-config-file-');
    file = path.join(dir, 'vigil.yaml');
  });
  const load = (env: NodeJS.ProcessEnv) => loadConfig({ flags: { config: file }, env, cwd: dir, systemConfigFile: null });

  it('expands ${VAR} and ${VAR:-default} in any key, typed where the key wants a number, a boolean or a list', () => {
    const token = 'x'.repeat(40);
    fs.writeFileSync(
      file,
      [
        'listen: ${LAPI_HOST:-127.0.0.1}:${LAPI_PORT}',
        'db: sqlite:${DATA}/v.db',
        'api:',
        '  auto_registration: { enabled: true, token: "${REGISTRATION_TOKEN}", allowed_ranges: ["10.0.0.0/8"] }',
        '  use_forwarded_for_headers: ${BEHIND_LB:-false}',
        '  trusted_proxies: ${LB_ADDRESSES}',
        'limits:',
        '  max_connections: ${MAX_CONN}',
        '  header_timeout: ${HEADER_TIMEOUT:-10s}',
        '',
      ].join('\n'),
    );
    const c = load({
      LAPI_PORT: '9090',
      DATA: '/srv/vigil',
      REGISTRATION_TOKEN: token,
      BEHIND_LB: 'true',
      LB_ADDRESSES: '[10.1.0.5, 10.1.0.6]',
      MAX_CONN: '500',
    });
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(c.db).toBe('sqlite:/srv/vigil/v.db');
    expect(c.watcherApi.autoRegistration.token).toBe(token);
    expect(c.proxy).toEqual({ useForwardedForHeaders: true, proxyProtocol: false, trustedProxies: ['10.1.0.5', '10.1.0.6'] });
    expect(c.limits.maxConnections).toBe(500);
    expect(c.limits.headerTimeoutMs).toBe(10_000);
  });

  it('a token made of digits stays text where the key wants text', () => {
    const digits = '1'.repeat(40);
    fs.writeFileSync(file, 'api:\n  auto_registration: { enabled: true, token: "${REGISTRATION_TOKEN}" }\n');
    expect(load({ REGISTRATION_TOKEN: digits }).watcherApi.autoRegistration.token).toBe(digits);
  });

  it('an unset variable is an error naming it, the file and the key; $${ is a literal ${', () => {
    fs.writeFileSync(file, 'api:\n  auto_registration: { enabled: true, token: "${REGISTRATION_TOKEN}" }\n');
    expect(() => load({})).toThrow(
      `config file ${file}: api.auto_registration.token: environment variable REGISTRATION_TOKEN is not set (referenced as \${REGISTRATION_TOKEN})`,
    );
    fs.writeFileSync(file, 'db: "sqlite:./a$${NOT_A_VAR}.db"\n');
    expect(load({}).db).toBe(`sqlite:${dir}/a\${NOT_A_VAR}.db`);
  });

  it('a variable cannot change the structure of the file', () => {
    fs.writeFileSync(file, 'db: "sqlite:${NAME}.db"\n');
    expect(load({ NAME: 'x\nlisten: 0.0.0.0:80' }).listen).toEqual({ host: '127.0.0.1', port: 8080 });
  });

  it("leaves notifications' secrets to be expanded when the channels start", () => {
    fs.writeFileSync(file, 'notifications:\n  channels:\n    hook: { type: webhook, url: "https://example.com/${HOOK_TOKEN}" }\n');
    expect(() => load({})).not.toThrow();
  });

  it('merges vigil.yaml.local over vigil.yaml as CrowdSec merges config.yaml.local: maps by key, lists and values replaced', () => {
    fs.writeFileSync(
      file,
      [
        'listen: 127.0.0.1:8080',
        'log_level: info',
        'api:',
        '  trusted_ips: [10.0.0.1, 10.0.0.2]',
        '  disable_remote_registration: true',
        'limits:',
        '  max_connections: 100',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      `${file}.local`,
      ['listen: ${LISTEN}', 'api:', '  trusted_ips: [10.9.9.9]', 'limits:', '  max_connections_per_peer: 7', 'log_level:', ''].join('\n'),
    );
    const c = load({ LISTEN: '0.0.0.0:8080' });
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(c.watcherApi.trustedIps).toEqual(['10.9.9.9']);
    expect(c.watcherApi.disableRemoteRegistration).toBe(true);
    expect(c.limits.maxConnections).toBe(100);
    expect(c.limits.maxConnectionsPerPeer).toBe(7);
    expect(c.logLevel).toBe('info');
    fs.writeFileSync(`${file}.local`, 'limits:\n  max_connection: 7\n');
    expect(() => load({})).toThrow(`config file ${file} (with ${file}.local): limits: unknown key max_connection`);
  });
});
