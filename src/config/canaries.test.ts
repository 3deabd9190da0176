import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function load(yaml: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-canary-config-'));
  dirs.push(dir);
  const file = path.join(dir, 'vigil.yaml');
  fs.writeFileSync(file, yaml);
  return { file, config: () => loadConfig({ flags: { config: file }, env: {}, cwd: dir, systemConfigFile: null }) };
}

describe('canaries: in vigil.yaml', () => {
  it('defaults: ban, every 5m, 192.0.2.1 as X-Forwarded-For, origin vigil-canary, named after bouncer and URL', () => {
    const { config } = load('canaries:\n  - url: http://127.0.0.1:8088/\n    bouncer: nginx-fa\n');
    expect(config().canaries).toEqual([
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
    expect(load(`canaries:\n  - url: https://shop.example/\n    bouncer: b\n    address: "${a}"\n`).config().canaries[0]!.address).toBe(a);
  });

  it.each([
    ['10.0.0.1', /canaries\.0\.address "10\.0\.0\.1": outside the documentation ranges; a canary decision must never block a real client/],
    ['8.8.8.8', /outside the documentation ranges/],
    ['2001:db9::1', /outside the documentation ranges/],
    ['not-an-ip', /canaries\.0\.address "not-an-ip": not an IP address/],
  ])('refuses %s, naming the key and the fix', (a, message) => {
    const { file, config } = load(`canaries:\n  - url: https://shop.example/\n    bouncer: b\n    address: "${a}"\n`);
    expect(config).toThrow(message);
    expect(config).toThrow(file);
  });

  it('refuses via: source for a URL that is not on loopback, a bad URL, a duplicate name, an unknown key', () => {
    expect(load('canaries:\n  - url: https://shop.example/\n    bouncer: b\n    via: source\n').config).toThrow(
      /canaries\.0\.via source: only for a loopback URL/,
    );
    expect(load('canaries:\n  - url: http://127.0.0.1/\n    bouncer: b\n    via: source\n').config().canaries[0]!.via).toBe('source');
    expect(load('canaries:\n  - url: ftp://x/\n    bouncer: b\n').config).toThrow(/canaries\.0\.url "ftp:\/\/x\/": use an http/);
    expect(load('canaries:\n  - {url: "http://a/", bouncer: b, name: x}\n  - {url: "http://b/", bouncer: b, name: x}\n').config).toThrow(
      /canaries\.1\.name "x": two canaries with this name/,
    );
    expect(load('canaries:\n  - {url: "http://a/", bouncer: b, adress: 192.0.2.1}\n').config).toThrow(/unknown key adress/);
    expect(load('canaries:\n  - {url: "http://a/", bouncer: b, every: 10ms}\n').config).toThrow(/canaries\.0\.every "10ms": at least 1s/);
  });
});
