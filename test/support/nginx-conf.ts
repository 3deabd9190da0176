import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROXY_BINARIES, startProxy } from './forward-auth-cases.ts';

/**
 * A whole nginx.conf for a test's own nginx: in the foreground, one process, every path (pid, logs,
 * temporary files) inside `dir`, so nothing of the machine's nginx is touched; `servers` is the
 * body of the `http { }` block. Also creates the temporary folders nginx wants.
 */
export function writeTestNginxConf(dir: string, servers: string, opts: { accessLog?: boolean } = {}): string {
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(dir, 'tmp', sub), { recursive: true });
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    file,
    `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log ${opts.accessLog === false ? 'off' : `${dir}/access.log`};
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
${servers}
}
`,
  );
  return file;
}

/** The test's nginx on the nginx.conf writeTestNginxConf wrote into `dir`; `-e`: errors before the conf is read go there too. */
export function spawnTestNginx(dir: string): ChildProcess {
  return spawn(PROXY_BINARIES.nginx, ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** spawnTestNginx, resolved once `base` answers; when nginx exits instead, the failure carries its error log. */
export async function startTestNginx(dir: string, base: string): Promise<ChildProcess> {
  const errorLog = path.join(dir, 'error.log');
  return await startProxy(
    'nginx',
    () => spawnTestNginx(dir),
    base,
    (output) => `${output} ${fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : ''}`,
  );
}
