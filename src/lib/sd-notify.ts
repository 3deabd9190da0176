import { spawn } from 'node:child_process';

/**
 * Tells systemd that a `Type=notify` service is ready (sd_notify(3) READY=1), when it started us
 * with NOTIFY_SOCKET set; does nothing otherwise (a terminal, a container, another supervisor).
 * The socket is a unix datagram socket, which Node cannot write (dgram is UDP only) and the npm
 * packages that can are native addons, so `systemd-notify` (shipped with systemd) sends it; the
 * unit needs NotifyAccess=all since the sender is our child, and `--pid` names this process as the
 * main one. systemd-notify (252+) then waits on a BARRIER=1 until systemd has read the message, so
 * it is still alive when systemd looks up which unit sent it. Resolves to null once sent, or to why
 * it could not be.
 */
export function notifyReady(env: NodeJS.ProcessEnv, status: string): Promise<string | null> {
  if (!env.NOTIFY_SOCKET) return Promise.resolve(null);
  return new Promise((resolve) => {
    const child = spawn('systemd-notify', ['--ready', `--pid=${process.pid}`, `--status=${status}`], {
      env: { ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 1000) stderr += d.toString();
    });
    child.once('error', (e: NodeJS.ErrnoException) =>
      resolve(e.code === 'ENOENT' ? 'systemd-notify not found on PATH (package systemd)' : `systemd-notify: ${e.message}`),
    );
    child.once('close', (code) => resolve(code === 0 ? null : `systemd-notify exited ${code}: ${stderr.trim() || 'no message'}`));
  });
}
