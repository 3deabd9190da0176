import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeDb, expandEnvLikeGo, parseCrowdsecConfig, parseCrowdsecDbUrl, readCrowdsecConfig } from './crowdsec-config.ts';
import { resolveWatchSettings } from './watch-config.ts';

// The Debian package's config.yaml, trimmed to what matters here (crowdsec-wire-protocol.md §1).
const DEBIAN_CONFIG = `common:
  daemonize: true
  log_media: file
config_paths:
  config_dir: /etc/crowdsec/
  data_dir: /var/lib/crowdsec/data/
db_config:
  log_level: info
  type: sqlite
  db_path: /var/lib/crowdsec/data/crowdsec.db
  #max_open_conns: 100
  #user:
  flush:
    max_items: 5000
    max_age: 7d
api:
  server:
    log_level: info
    listen_uri: 127.0.0.1:8080
    profiles_path: /etc/crowdsec/profiles.yaml
`;

describe("CrowdSec's config file", () => {
  it('finds the Debian SQLite database and the Local API address', () => {
    expect(parseCrowdsecConfig(DEBIAN_CONFIG, null, '/etc/crowdsec/config.yaml')).toEqual({
      db: { type: 'sqlite', path: '/var/lib/crowdsec/data/crowdsec.db' },
      lapiUrl: 'http://127.0.0.1:8080/',
      // No log_dir: CrowdSec's default; no prometheus block: off.
      logs: { media: 'file', dir: '/var/log/' },
      prometheusUrl: null,
      lapiEnabled: true,
    });
    // A host switched to Vigil runs its agent with the Local API off (docs/local-api.md § Switching).
    expect(parseCrowdsecConfig(`${DEBIAN_CONFIG}\n`.replace(/api:\n {2}server:\n/, 'api:\n  server:\n    enable: false\n'), null, 'c').lapiEnabled).toBe(false);
  });

  it('where it logs and its Prometheus endpoint (0.0.0.0 reached on loopback; default port 6060)', () => {
    const c = parseCrowdsecConfig('common:\n  log_media: stdout\n  log_dir: /srv/log/\nprometheus:\n  enabled: true\n  listen_addr: 0.0.0.0\n', null, 'c');
    expect(c.logs).toEqual({ media: 'stdout', dir: '/srv/log/' });
    expect(c.prometheusUrl).toBe('http://127.0.0.1:6060/metrics');
    expect(parseCrowdsecConfig('prometheus:\n  enabled: false\n  listen_port: 6061\n', null, 'c').prometheusUrl).toBeNull();
    expect(parseCrowdsecConfig('prometheus:\n  enabled: true\n  listen_addr: "::1"\n  listen_port: 6061\n', null, 'c').prometheusUrl).toBe(
      'http://[::1]:6061/metrics',
    );
    // CrowdSec's own default media is stdout.
    expect(parseCrowdsecConfig('db_config:\n  type: sqlite\n', null, 'c').logs.media).toBe('stdout');
  });

  it('merges config.yaml.local over it (the Debian package enables WAL there), key by key', () => {
    const local =
      'db_config:\n  use_wal: true\n  db_path: /srv/cs.db\napi:\n  server:\n    listen_uri: 0.0.0.0:8081\n    tls:\n      cert_file: /etc/crowdsec/ssl/cert.pem\n';
    expect(parseCrowdsecConfig(DEBIAN_CONFIG, local, 'c.yaml')).toMatchObject({ db: { type: 'sqlite', path: '/srv/cs.db' }, lapiUrl: 'https://0.0.0.0:8081/' });
  });

  it('reads PostgreSQL and MySQL db_config, with ${VAR} expanded as CrowdSec does', () => {
    const pg = parseCrowdsecConfig(
      'db_config:\n  type: postgresql\n  user: crowdsec\n  password: ${PG_PASS}\n  db_name: cs\n  host: db.internal\n  port: 5433\n  sslmode: require\n',
      null,
      'c',
      { PG_PASS: 'p@ss' },
    );
    expect(pg.db).toEqual({ type: 'postgres', host: 'db.internal', port: 5433, user: 'crowdsec', password: 'p@ss', database: 'cs', sslmode: 'require' });
    expect(describeDb(pg.db)).toBe('postgres://crowdsec@db.internal:5433/cs');
    expect(pg.lapiUrl).toBeNull();
    const my = parseCrowdsecConfig('db_config:\n  type: mysql\n  user: cs\n  password: secret\n  db_name: crowdsec\n  host: 10.0.0.2\n', null, 'c');
    expect(my.db).toEqual({ type: 'mysql', host: '10.0.0.2', port: 3306, user: 'cs', password: 'secret', database: 'crowdsec' });
    expect(describeDb(my.db)).not.toContain('secret');
  });

  it('expands like Go os.ExpandEnv', () => {
    expect(expandEnvLikeGo('a ${X} $Y ${NOPE}z', { X: '1', Y: '2' })).toBe('a 1 2 z');
  });

  it('refuses what it cannot use, naming the file, the key and the fix', () => {
    expect(() => parseCrowdsecConfig('db_config:\n  type: oracle\n', null, '/etc/crowdsec/config.yaml')).toThrow(
      /CrowdSec config \/etc\/crowdsec\/config.yaml: db_config.type "oracle": Vigil reads sqlite, postgresql and mysql/,
    );
    expect(() => parseCrowdsecConfig('db_config:\n  type: mysql\n  port: lots\n', null, 'c')).toThrow(/db_config.port "lots": expected a port number/);
    expect(() => parseCrowdsecConfig('db_config: [\n', null, 'c')).toThrow(/YAML syntax error at line/);
    expect(() => readCrowdsecConfig('/nonexistent/crowdsec/config.yaml', {})).toThrow(
      /config.yaml: not found; pass --crowdsec-config FILE, --crowdsec-db URL or --cscli COMMAND/,
    );
  });
});

describe('--crowdsec-db', () => {
  it('reads the three kinds of URL', () => {
    expect(parseCrowdsecDbUrl('sqlite:/var/lib/crowdsec/data/crowdsec.db')).toEqual({ type: 'sqlite', path: '/var/lib/crowdsec/data/crowdsec.db' });
    expect(parseCrowdsecDbUrl('postgres://cs:p%40ss@127.0.0.1:5432/crowdsec?sslmode=require')).toEqual({
      type: 'postgres',
      host: '127.0.0.1',
      port: 5432,
      user: 'cs',
      password: 'p@ss',
      database: 'crowdsec',
      sslmode: 'require',
    });
    expect(parseCrowdsecDbUrl('mysql://cs:pw@db:3307/crowdsec')).toMatchObject({ type: 'mysql', host: 'db', port: 3307, database: 'crowdsec' });
  });

  it('refuses others without printing the password', () => {
    const err = () => parseCrowdsecDbUrl('mongodb://cs:hunter2@db/crowdsec');
    expect(err).toThrow(/--crowdsec-db "mongodb:\/\/cs:\*\*\*@db\/crowdsec": use sqlite:PATH, postgres:/);
    expect(err).not.toThrow(/hunter2/);
    expect(() => parseCrowdsecDbUrl('postgres://cs:hunter2@db/')).toThrow(/name the database in the path/);
  });
});

describe('watch settings', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-watch-cfg-'));
  const csConfig = path.join(dir, 'config.yaml');
  fs.writeFileSync(csConfig, DEBIAN_CONFIG.replace('/var/lib/crowdsec/data/crowdsec.db', 'data/crowdsec.db'));

  it('reads the source from CrowdSec config by default, relative paths from the working directory', () => {
    const s = resolveWatchSettings({ flags: { crowdsecConfig: csConfig }, file: {}, configFile: null, env: {}, cwd: dir });
    expect(s.source).toEqual({ type: 'db', db: { type: 'sqlite', path: path.join(dir, 'data/crowdsec.db') }, from: `${csConfig} (db_config)` });
    expect(s.pollEveryMs).toBe(10_000);
    expect(s.listen).toEqual({ host: '127.0.0.1', port: 6070 });
    expect(s.runbook).toEqual({ lapiUrl: 'http://127.0.0.1:8080/', deployment: 'host' });
  });

  it('takes --cscli over the file, and the runbook place from it', () => {
    const s = resolveWatchSettings({
      flags: { cscli: 'docker exec cs cscli', pollEvery: '5s', listen: 'off' },
      file: { crowdsec_db: 'sqlite:/x.db', poll_every: '1m' },
      configFile: 'vigil.yaml',
      env: {},
      cwd: dir,
    });
    expect(s.source).toEqual({ type: 'cscli', command: ['docker', 'exec', 'cs', 'cscli'], from: '--cscli' });
    expect(s.pollEveryMs).toBe(5000);
    expect(s.listen).toBeNull();
    expect(s.runbook).toEqual({ lapiUrl: 'http://127.0.0.1:8080/', deployment: 'docker', container: 'cs' });
  });

  it("the access log and metrics URL: from CrowdSec's config, else the default path; flags, journald and off", () => {
    const fromConfig = resolveWatchSettings({ flags: { crowdsecConfig: csConfig }, file: {}, configFile: null, env: {}, cwd: dir });
    expect(fromConfig.lapiLog).toEqual({
      type: 'file',
      accessLog: '/var/log/crowdsec_api.log',
      mainLog: '/var/log/crowdsec.log',
      from: `${csConfig} (common.log_media: file)`,
      explicit: false,
    });
    expect(fromConfig.prometheusUrl).toBeNull();
    // log_media: stdout for a config that is not the system's: no journald guess (another CrowdSec's unit).
    const stdoutConfig = path.join(dir, 'stdout.yaml');
    fs.writeFileSync(stdoutConfig, DEBIAN_CONFIG.replace('log_media: file', 'log_media: stdout') + 'prometheus:\n  enabled: true\n  listen_port: 6061\n');
    const stdout = resolveWatchSettings({ flags: { crowdsecConfig: stdoutConfig }, file: {}, configFile: null, env: {}, cwd: dir });
    expect(stdout.lapiLog).toBeNull();
    expect(stdout.prometheusUrl).toBe('http://127.0.0.1:6061/metrics');
    const cscli = resolveWatchSettings({ flags: { cscli: 'cscli' }, file: {}, configFile: null, env: {}, cwd: dir });
    // Without CrowdSec's config, this host's /var/log may be another CrowdSec's: nothing is guessed.
    expect(cscli.lapiLog).toBeNull();
    const given = resolveWatchSettings({
      flags: { cscli: 'cscli', accessLog: 'logs/api.log', prometheusUrl: 'off' },
      file: { prometheus_url: 'http://x:6060/metrics' },
      configFile: null,
      env: {},
      cwd: dir,
    });
    expect(given.lapiLog).toMatchObject({
      type: 'file',
      accessLog: path.join(dir, 'logs/api.log'),
      mainLog: path.join(dir, 'logs/crowdsec.log'),
      explicit: true,
    });
    expect(given.prometheusUrl).toBeNull();
    expect(
      resolveWatchSettings({ flags: { cscli: 'cscli', accessLog: 'journald:crowdsec-lapi' }, file: {}, configFile: null, env: {}, cwd: dir }).lapiLog,
    ).toMatchObject({
      type: 'journald',
      unit: 'crowdsec-lapi',
    });
    expect(resolveWatchSettings({ flags: { cscli: 'cscli' }, file: { access_log: 'off' }, configFile: null, env: {}, cwd: dir }).lapiLog).toBeNull();
    expect(() => resolveWatchSettings({ flags: { cscli: 'cscli', prometheusUrl: 'ftp://x' }, file: {}, configFile: null, env: {}, cwd: dir })).toThrow(
      /--prometheus-url "ftp:\/\/x": use CrowdSec's metrics URL, e\.g\. http:\/\/127\.0\.0\.1:6060\/metrics, or off/,
    );
  });

  it('reads VIGIL_WATCH_* between flags and the file', () => {
    const s = resolveWatchSettings({
      flags: {},
      file: { poll_every: '1m', cscli: 'cscli' },
      configFile: 'vigil.yaml',
      env: { VIGIL_WATCH_POLL_EVERY: '10s' },
      cwd: dir,
    });
    expect(s.pollEveryMs).toBe(10_000);
  });

  it('refuses bad values naming where they came from', () => {
    const base = { file: {}, configFile: '/etc/vigil.yaml', env: {}, cwd: dir };
    expect(() => resolveWatchSettings({ ...base, flags: { cscli: 'cscli', crowdsecDb: 'sqlite:/x' } })).toThrow(/--cscli and --crowdsec-db both given/);
    expect(() => resolveWatchSettings({ ...base, flags: { cscli: 'cscli', pollEvery: '5x' } })).toThrow(/--poll-every/);
    expect(() => resolveWatchSettings({ ...base, flags: {}, file: { cscli: 'cscli', listen: 'nowhere' } })).toThrow(
      /\/etc\/vigil.yaml: watch.listen "nowhere": use HOST:PORT/,
    );
    expect(() => resolveWatchSettings({ ...base, flags: { cscli: 'cscli', lapiUrl: 'ftp://x' } })).toThrow(
      /--lapi-url "ftp:\/\/x": use the URL bouncers reach/,
    );
    expect(() => resolveWatchSettings({ ...base, flags: { cscli: 'cscli', deployment: 'vm' } })).toThrow(/--deployment "vm": use host, docker or kubernetes/);
  });
});
