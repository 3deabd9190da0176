import { describe, expect, it } from 'vitest';
import { loadBouncerConfig, loadKeyValueConfig, loadYamlConfig, mergeYaml, parseYamlFile } from './bouncer-config.ts';

const f = (path: string, text: string) => ({ path, text });

describe('YAML bouncer configurations', () => {
  it('merges FILE.local over FILE as crowdsec yamlpatch does', () => {
    expect(mergeYaml({ a: 1, m: { x: 1, y: 2 }, s: [1, 2] }, { a: 2, m: { y: 3, z: 4 }, s: [9] })).toEqual({ a: 2, m: { x: 1, y: 3, z: 4 }, s: [9] });
    // an explicit null removes what is below
    expect(mergeYaml({ m: { x: 1 } }, { m: null })).toEqual({ m: null });
    // strict mode: a mapping into a scalar is an error, as the real bouncer says it
    expect(() => mergeYaml({ api_key: 'a' }, { api_key: { nested: 'x' } })).toThrow("can't merge a mapping into a scalar (key api_key)");
  });

  it('reads the real package layout: placeholders in the main file, the key in .local', () => {
    const main = f(
      '/etc/crowdsec/bouncers/crowdsec-custom-bouncer.yaml',
      'bin_path: ${BINARY_PATH}\nupdate_frequency: 10s\nlog_mode: file\nlog_dir: /var/log/\napi_url: http://localhost:8080/\napi_key: ${API_KEY}\nprometheus:\n  enabled: true\n',
    );
    const local = f('/etc/crowdsec/bouncers/crowdsec-custom-bouncer.yaml.local', 'bin_path: /usr/bin/true\napi_key: 1f56a4da412d18783d7ead0122be1783\n');
    const r = loadYamlConfig(main, local);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.settings.url).toEqual({ value: 'http://localhost:8080/', path: main.path, key: 'api_url', line: 5 });
    expect(r.settings.key).toEqual({ value: '1f56a4da412d18783d7ead0122be1783', path: local.path, key: 'api_key', line: 2 });
    expect(r.settings.placeholders).toEqual([]);
    expect(r.settings.logDir?.value).toBe('/var/log/');
    // Without .local the placeholders are what the bouncer would use.
    const alone = loadYamlConfig(main);
    if (!alone.ok) throw new Error();
    expect(alone.settings.placeholders.map((p) => `${p.key}=${p.value}@${p.line}`)).toEqual(['bin_path=${BINARY_PATH}@1', 'api_key=${API_KEY}@6']);
  });

  it("knows every family's key names", () => {
    const cf = loadYamlConfig(f('cf.yaml', 'crowdsec_lapi_url: http://lapi:8080/\ncrowdsec_lapi_key: k1\ncrowdsec_update_frequency: 10s\n'));
    expect(cf.ok && [cf.settings.url?.key, cf.settings.key?.key, cf.settings.updateFrequency?.key]).toEqual([
      'crowdsec_lapi_url',
      'crowdsec_lapi_key',
      'crowdsec_update_frequency',
    ]);
    const worker = loadYamlConfig(f('w.yaml', 'crowdsec_config:\n  lapi_url: http://lapi:8080/\n  lapi_key: k2\n'));
    expect(worker.ok && [worker.settings.url?.key, worker.settings.key?.value, worker.settings.url?.line]).toEqual(['crowdsec_config.lapi_url', 'k2', 2]);
    const mtls = loadYamlConfig(
      f('fw.yaml', 'api_url: https://lapi:8080/\ncert_path: /c.pem\nkey_path: /k.pem\nca_cert_path: /ca.pem\ninsecure_skip_verify: false\n'),
    );
    expect(mtls.ok && [mtls.settings.certAuth?.cert?.value, mtls.settings.caCertPath?.value, mtls.settings.insecureSkipVerify?.value]).toEqual([
      '/c.pem',
      '/ca.pem',
      false,
    ]);
  });

  it('reports YAML errors with the file, line and column', () => {
    const bad = parseYamlFile(f('bad.yaml', 'api_url: http://x/\n api_key: abc\n'));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatchObject({ path: 'bad.yaml', line: 2 });
    const tab = parseYamlFile(f('tab.yaml', 'prometheus:\n\tenabled: true\n'));
    expect(!tab.ok && tab.error.line).toBe(2);
    const dup = loadYamlConfig(f('dup.yaml', 'api_key: a\napi_key: b\n'));
    expect(!dup.ok && dup.error).toMatchObject({ line: 2, col: 1, message: 'Map keys must be unique' });
    const list = loadYamlConfig(f('list.yaml', '- api_url\n'));
    expect(!list.ok && list.error.message).toMatch(/must be a mapping/);
    const mismatch = loadYamlConfig(f('a.yaml', 'api_key: a\n'), f('a.yaml.local', 'api_key:\n  x: 1\n'));
    expect(!mismatch.ok && mismatch.error).toEqual({ path: 'a.yaml.local', message: "can't merge a mapping into a scalar (key api_key)" });
  });

  it('skips an empty or comment-only .local, as yamlpatch does', () => {
    const r = loadYamlConfig(f('a.yaml', 'api_url: http://x:8080/\napi_key: k\n'), f('a.yaml.local', '# nothing here\n'));
    expect(r.ok && r.settings.key?.value).toBe('k');
  });
});

describe('KEY=VALUE (lua-cs-bouncer) configurations', () => {
  it('reads keys, lets .local override, and notes what the bouncer would complain about', () => {
    const main = f(
      '/etc/crowdsec/bouncers/crowdsec-nginx-bouncer.conf',
      '# comment\nAPI_URL=http://127.0.0.1:8080\nAPI_KEY="quoted"\nMODE=stream\nFOO=bar\n\nUPDATE_FREQUENCY=10\n',
    );
    const local = f('/etc/crowdsec/bouncers/crowdsec-nginx-bouncer.conf.local', 'API_KEY=abcdef0123456789\n');
    const r = loadKeyValueConfig(main, local);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.settings.url).toEqual({ value: 'http://127.0.0.1:8080', path: main.path, key: 'API_URL', line: 2 });
    expect(r.settings.key).toEqual({ value: 'abcdef0123456789', path: local.path, key: 'API_KEY', line: 1 });
    expect(r.settings.notes.map((n) => `${n.line}: ${n.message}`)).toEqual([
      '3: API_KEY is quoted: the quotes become part of the value (write API_KEY=value without quotes)',
      "5: unsupported configuration 'FOO' (the bouncer ignores it)",
    ]);
  });

  it('stops at a line without "=", as the bouncer does', () => {
    const r = loadBouncerConfig('conf', f('x.conf', 'API_URL=http://lapi:8080\nAPI_KEY ${API_KEY}\n'));
    expect(!r.ok && r.error).toMatchObject({ line: 2, col: 1 });
    expect(!r.ok && r.error.message).toMatch(/^invalid configuration line "API_KEY \$\{API_KEY\}": expected KEY=VALUE/);
  });

  it('finds placeholders', () => {
    const r = loadKeyValueConfig(f('x.conf', 'API_URL=${CROWDSEC_LAPI_URL}\nAPI_KEY=${API_KEY}\n'));
    expect(r.ok && r.settings.placeholders.map((p) => p.key)).toEqual(['API_URL', 'API_KEY']);
  });
});
