import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestFrom } from './support/http-from.ts';
import { freePort, loggedProcess, type LoggedProcess } from './support/processes.ts';
import { startVigilServe, type VigilServe } from './support/vigil-serve.ts';
import { eventually } from './support/wait.ts';

/**
 * The Local API behind a real HAProxy (`send-proxy-v2`, `option forwardfor`) and a real nginx (stream
 * `proxy_protocol on`, http `X-Forwarded-For`), all on loopback: the balancers listen on 127.0.0.1
 * (the one trusted proxy), the bouncers connect to them from 127.0.0.2 and 127.0.0.3 sharing one key.
 * Behind each balancer they must stay two bouncers (`NAME` and `NAME@127.0.0.3`), each with its own
 * pull, as they would talking to the Local API directly; a client that is not a trusted proxy cannot
 * choose its address with either header.
 */
const HAPROXY = '/usr/sbin/haproxy';
const NGINX = '/usr/sbin/nginx';
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
const missing = [
  fs.existsSync(HAPROXY) ? '' : 'haproxy (run: sudo bash scripts/install-haproxy.sh)',
  fs.existsSync(NGINX) && fs.existsSync(STREAM_MODULE) ? '' : 'nginx with its stream module (run: sudo bash scripts/install-nginx.sh)',
].filter(Boolean);

interface BouncerRow {
  name: string;
  ip_address: string;
  last_pull: string | null;
}

describe.skipIf(missing.length > 0 && !process.env.CI)(`the Local API behind a load balancer ${missing.join(', ')}`, () => {
  let dir: string;
  let vigil: VigilServe;
  let haproxy: LoggedProcess;
  let nginx: LoggedProcess;
  const port = { hpProxy: 0, hpHttp: 0, ngxProxy: 0, ngxHttp: 0 };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-behind-proxy-'));
    vigil = await startVigilServe({
      workDir: dir,
      configLines: ['activity_flush_every: 100ms', 'api:', '  use_forwarded_for_headers: true', '  proxy_protocol: true', '  trusted_proxies: [127.0.0.1]'],
    });
    for (const k of Object.keys(port) as (keyof typeof port)[]) port[k] = await freePort();
    const lapi = vigil.listen;
    const hpConf = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(
      hpConf,
      `global
  maxconn 64
defaults
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend pp
  mode tcp
  bind 127.0.0.1:${port.hpProxy}
  default_backend lapi_pp
backend lapi_pp
  mode tcp
  server vigil ${lapi} send-proxy-v2
frontend xff
  mode http
  bind 127.0.0.1:${port.hpHttp}
  option forwardfor
  default_backend lapi_http
backend lapi_http
  mode http
  server vigil ${lapi}
`,
    );
    haproxy = loggedProcess(HAPROXY, ['-db', '-f', hpConf], { cwd: dir });
    haproxy.spawn();
    for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(dir, 'tmp', sub), { recursive: true });
    const ngxConf = path.join(dir, 'nginx.conf');
    fs.writeFileSync(
      ngxConf,
      `load_module ${STREAM_MODULE};
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 64; }
stream {
  server { listen 127.0.0.1:${port.ngxProxy}; proxy_pass ${lapi}; proxy_protocol on; }
}
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port.ngxHttp};
    location / {
      proxy_pass http://${lapi};
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`,
    );
    nginx = loggedProcess(NGINX, ['-c', ngxConf, '-p', dir], { cwd: dir });
    nginx.spawn();
    for (const [name, p] of Object.entries(port)) {
      await eventually(`${name} to listen on ${p}`, () => connects(p), 10_000, 100).catch((e: Error) => {
        throw new Error(`${e.message}\nhaproxy:\n${haproxy.logs()}\nnginx:\n${nginx.logs()}`);
      });
    }
  }, 60_000);

  afterAll(async () => {
    await haproxy?.stop();
    await nginx?.stop();
    await vigil?.stop();
  });

  const rows = async (): Promise<BouncerRow[]> => JSON.parse(await vigil.cli('bouncers', 'list', '-o', 'json')) as BouncerRow[];

  /** A stream pull with `key` through `via` (a balancer's port), from the loopback address `from`. */
  const pull = async (via: number, key: string, from: string, headers: Record<string, string> = {}) => {
    const a = await requestFrom(`http://127.0.0.1:${via}/v1/decisions/stream?startup=true`, {
      headers: { 'X-Api-Key': key, 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.28', ...headers },
      localAddress: from,
      timeoutMs: 10_000,
    });
    expect(a.status, a.text).toBe(200);
  };

  const behind = [
    ['HAProxy send-proxy-v2', 'hp-pp', () => port.hpProxy],
    ['HAProxy option forwardfor', 'hp-xff', () => port.hpHttp],
    ['nginx stream proxy_protocol', 'ngx-pp', () => port.ngxProxy],
    ['nginx X-Forwarded-For', 'ngx-xff', () => port.ngxHttp],
  ] as const;

  for (const [what, name, via] of behind) {
    it(`${what}: two bouncers sharing a key from 127.0.0.2 and 127.0.0.3 keep two rows, each with its own pull`, async () => {
      const key = (await vigil.cli('bouncers', 'add', name, '-o', 'raw')).trim();
      await pull(via(), key, '127.0.0.2');
      await pull(via(), key, '127.0.0.3');
      await eventually(`${name}'s two rows with their own pulls`, async () => {
        const mine = (await rows()).filter((r) => r.name === name || r.name.startsWith(`${name}@`));
        return mine.length === 2 && mine.every((r) => r.last_pull !== null);
      });
      const mine = (await rows()).filter((r) => r.name === name || r.name.startsWith(`${name}@`));
      expect(mine.map((r) => [r.name, r.ip_address]).sort()).toEqual([
        [name, '127.0.0.2'],
        [`${name}@127.0.0.3`, '127.0.0.3'],
      ]);
      // A third pull from .2 moves only its own row: the cursors are apart.
      const before = mine.find((r) => r.name === name)!.last_pull;
      const other = mine.find((r) => r.name !== name)!.last_pull;
      await new Promise((r) => setTimeout(r, 1100)); // last_pull has a resolution of a second: the pause is the scenario
      await pull(via(), key, '127.0.0.2');
      await eventually(`${name}'s own row to move`, async () => (await rows()).find((r) => r.name === name)!.last_pull !== before);
      expect((await rows()).find((r) => r.name === `${name}@127.0.0.3`)!.last_pull).toBe(other);
    }, 60_000);
  }

  it("ignores an untrusted peer's X-Forwarded-For and PROXY header: its own address stands", async () => {
    const key = (await vigil.cli('bouncers', 'add', 'direct', '-o', 'raw')).trim();
    const lapiPort = Number(vigil.listen.split(':')[1]);
    await pull(lapiPort, key, '127.0.0.6', { 'X-Forwarded-For': '10.1.1.1', 'X-Real-IP': '10.1.1.2' });
    // A PROXY v1 header naming another client, written by the bouncer itself.
    const raw = await rawExchange(
      lapiPort,
      '127.0.0.6',
      `PROXY TCP4 10.2.2.2 127.0.0.1 5555 ${lapiPort}\r\nGET /v1/decisions/stream?startup=true HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${key}\r\nUser-Agent: crowdsec-firewall-bouncer/v0.0.28\r\nConnection: close\r\n\r\n`,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    await eventually('direct to have pulled', async () => (await rows()).find((r) => r.name === 'direct')?.last_pull !== null);
    const direct = (await rows()).filter((r) => r.name === 'direct' || r.name.startsWith('direct@'));
    expect(direct.map((r) => [r.name, r.ip_address])).toEqual([['direct', '127.0.0.6']]);
    expect(vigil.logs()).toContain('PROXY protocol header from 127.0.0.6 ignored');
  }, 60_000);

  it("a trusted peer's PROXY header names the client; a bad header closes the connection", async () => {
    const key = (await vigil.cli('bouncers', 'add', 'named', '-o', 'raw')).trim();
    const lapiPort = Number(vigil.listen.split(':')[1]);
    const get = `GET /v1/decisions/stream?startup=true HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${key}\r\nUser-Agent: cs-custom-bouncer/v0.0.1\r\nConnection: close\r\n\r\n`;
    expect(await rawExchange(lapiPort, '127.0.0.1', `PROXY TCP4 192.0.2.7 127.0.0.1 5555 ${lapiPort}\r\n${get}`)).toMatch(/^HTTP\/1\.1 200/);
    await eventually('named to be 192.0.2.7', async () => (await rows()).find((r) => r.name === 'named')?.ip_address === '192.0.2.7');
    expect(await rawExchange(lapiPort, '127.0.0.1', `PROXY TCP4 192.0.2.999 127.0.0.1 5555 ${lapiPort}\r\n${get}`)).toBe('');
  }, 60_000);
});

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Writes `text` on a connection from `from` and reads until the server closes it. */
function rawExchange(port: number, from: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from });
    let out = '';
    s.setTimeout(10_000, () => s.destroy(new Error('no answer within 10 s')));
    s.on('data', (c) => {
      out += c.toString('latin1');
    });
    s.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(out) : reject(e)));
    s.on('close', () => resolve(out));
    s.write(text);
  });
}
