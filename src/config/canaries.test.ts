import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { useVigilYaml } from '../../test/support/vigil-yaml.ts';
import { loadConfig } from './config.ts';

const vigilYaml = useVigilYaml('vigil-canary-config-');

describe('canaries: in vigil.yaml', () => {
  it('defaults: ban, every 5m, 192.0.2.1 as X-Forwarded-For, origin vigil-canary, named after bouncer and URL', () => {
    const { load } = vigilYaml('canaries:\n  - url: http://127.0.0.1:8088/\n    bouncer: nginx-fa\n');
    expect(load().canaries).toEqual([
      {
        name: 'nginx-fa http://127.0.0.1:8088/',
        url: 'http://127.0.0.1:8088/',
        bouncer: 'nginx-fa',
        expect: 'ban',
        everyMs: 300_000,
        address: '192.0.2.1',
        via: 'x-forwarded-for',
        timeoutMs: null,
        origin: 'vigil-canary',
      },
    ]);
    expect(loadConfig({ env: {}, cwd: os.tmpdir(), systemConfigFile: null }).canaries).toEqual([]);
  });

  it.each(['198.51.100.7', '203.0.113.250', '2001:db8::42'])('accepts the documentation address %s', (a) => {
    expect(vigilYaml(`canaries:\n  - url: https://shop.example/\n    bouncer: b\n    address: "${a}"\n`).load().canaries[0]!.address).toBe(a);
  });

  it.each([
    ['10.0.0.1', /canaries\.0\.address "10\.0\.0\.1": outside the documentation ranges; a canary decision must never block a real client/],
    ['8.8.8.8', /outside the documentation ranges/],
    ['2001:db9::1', /outside the documentation ranges/],
    ['not-an-ip', /canaries\.0\.address "not-an-ip": not an IP address/],
  ])('refuses %s, naming the key and the fix', (a, message) => {
    const { file, load } = vigilYaml(`canaries:\n  - url: https://shop.example/\n    bouncer: b\n    address: "${a}"\n`);
    expect(load).toThrow(message);
    expect(load).toThrow(file);
  });

  it('refuses via: source for a URL that is not on loopback, a bad URL, a duplicate name, an unknown key', () => {
    expect(vigilYaml('canaries:\n  - url: https://shop.example/\n    bouncer: b\n    via: source\n').load).toThrow(
      /canaries\.0\.via source: only for a loopback URL/,
    );
    expect(vigilYaml('canaries:\n  - url: http://127.0.0.1/\n    bouncer: b\n    via: source\n').load().canaries[0]!.via).toBe('source');
    expect(vigilYaml('canaries:\n  - url: ftp://x/\n    bouncer: b\n').load).toThrow(/canaries\.0\.url "ftp:\/\/x\/": use an http/);
    expect(vigilYaml('canaries:\n  - {url: "http://a/", bouncer: b, name: x}\n  - {url: "http://b/", bouncer: b, name: x}\n').load).toThrow(
      /canaries\.1\.name "x": two canaries with this name/,
    );
    expect(vigilYaml('canaries:\n  - {url: "http://a/", bouncer: b, adress: 192.0.2.1}\n').load).toThrow(/unknown key adress/);
    expect(vigilYaml('canaries:\n  - {url: "http://a/", bouncer: b, every: 10ms}\n').load).toThrow(/canaries\.0\.every "10ms": at least 1s/);
  });
});
