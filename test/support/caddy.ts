import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROXY_BINARIES, startProxy } from './forward-auth-cases.ts';

/**
 * A test's own Caddy: one plain-HTTP site on 127.0.0.1:`port` whose `site` lines stand before the
 * reverse proxy to the upstream, from a Caddyfile written into `dir`. The admin API is off (a changed
 * Caddyfile means a restart) and HOME and XDG_* keep Caddy's storage (certificates, autosave) inside
 * `dir`. Resolves once the site answers.
 */
export async function startTestCaddy(dir: string, port: number, site: string, upstreamPort: number): Promise<ChildProcess> {
  const caddyfile = `{
  admin off
  auto_https off
}
http://127.0.0.1:${port} {
  bind 127.0.0.1
${site}
  reverse_proxy 127.0.0.1:${upstreamPort}
}
`;
  const file = path.join(dir, 'Caddyfile');
  fs.writeFileSync(file, caddyfile);
  return await startProxy(
    'caddy',
    () =>
      spawn(PROXY_BINARIES.caddy, ['run', '--config', file, '--adapter', 'caddyfile'], {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: path.join(dir, 'data'), XDG_CONFIG_HOME: path.join(dir, 'config') },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    `http://127.0.0.1:${port}`,
    (output) => `\n${output}\n${caddyfile}`,
  );
}
