import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lapiRunbookFor } from '../core/health/lapi-runbooks.ts';
import { lapiProbe } from './lapi-probe.ts';

/** A loopback server answering /health as `headers` say; its URL. */
async function serveHealth(headers: Record<string, string>, status = 200): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end('{"status":"up"}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("probing CrowdSec's Local API from vigil watch", () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('up when /health answers 200 as CrowdSec does; replaced when it says Server: Vigil; down on a closed port or another status', async () => {
    const cs = await serveHealth({});
    const vigil = await serveHealth({ Server: 'Vigil' });
    const broken = await serveHealth({}, 503);
    closers.push(cs.close, vigil.close, broken.close);
    expect(await lapiProbe(cs.url).probe()).toEqual({ state: 'up' });
    expect(await lapiProbe(vigil.url).probe()).toEqual({ state: 'replaced', by: 'vigil serve' });
    expect(await lapiProbe(broken.url).probe()).toEqual({ state: 'down', error: 'HTTP 503' });
    const gone = await serveHealth({});
    await gone.close();
    expect(await lapiProbe(gone.url).probe()).toEqual({ state: 'down', error: 'ECONNREFUSED' });
  });

  it("disabled as soon as CrowdSec's config says api.server.enable: false (re-read at each probe)", async () => {
    const cs = await serveHealth({});
    closers.push(cs.close);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-probe-'));
    closers.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const config = path.join(dir, 'config.yaml');
    fs.writeFileSync(config, 'api:\n  server:\n    listen_uri: 127.0.0.1:8080\n');
    const probe = lapiProbe(cs.url, { crowdsecConfigPath: config, env: {} });
    expect(await probe.probe()).toEqual({ state: 'up' });
    fs.writeFileSync(`${config}.local`, 'api:\n  server:\n    enable: false\n');
    expect(await probe.probe()).toEqual({ state: 'disabled' });
  });

  it('runbooks name the address, quoted, and what to do: restart CrowdSec, or stop/repoint watch', () => {
    const down = lapiRunbookFor({ issue: 'lapi_down', lapiUrl: 'http://127.0.0.1:18080/', deployment: 'host', cause: 'lapi_stopped' });
    const text = JSON.stringify(down);
    expect(down.title).toBe('CrowdSec Local API Down: `http://127.0.0.1:18080/`');
    expect(text).toContain('curl -sS -i http://127.0.0.1:18080/health');
    expect(text).toContain("sudo ss -ltnp 'sport = :18080'");
    expect(text).toContain('sudo systemctl restart crowdsec');
    const docker = JSON.stringify(
      lapiRunbookFor({ issue: 'lapi_down', lapiUrl: 'http://127.0.0.1:8080/', deployment: 'docker', cause: 'lapi_stopped', container: 'cs; rm -rf /' }),
    );
    expect(docker).toContain("docker restart 'cs; rm -rf /'");
    const replaced = lapiRunbookFor({ issue: 'lapi_replaced', lapiUrl: 'http://127.0.0.1:8080/', deployment: 'host', cause: 'lapi_replaced_by_vigil' });
    expect(replaced.summary).toContain('Stop this watch');
    expect(JSON.stringify(replaced)).toContain('vigil watch --crowdsec-config');
  });
});
