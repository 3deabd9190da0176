import net from 'node:net';
import type { VigilConfig } from '../config/config.ts';
import { VigilError } from '../lib/errors.ts';
import { formatListen, type ListenAddress } from '../lib/listen-address.ts';
import { Store } from '../store/store.ts';
import { refuseStoreLostUnderServe, servePidOn } from './run-file.ts';

/**
 * `vigil serve -t` (nginx -t, a unit's ExecStartPre): what would stop `vigil serve` from starting,
 * found without starting it. The configuration was loaded by the caller (a bad file throws there);
 * this opens the store as serve does (creating and migrating it as serve's start would, and claiming
 * the serve role) and checks that each address serve binds is free. Returns one line per check;
 * throws a VigilError naming the first problem and its fix.
 */
export async function testServeConfig(config: VigilConfig, env: NodeJS.ProcessEnv, cwd: string): Promise<string[]> {
  const lines = [`config ${config.file ?? '(none: defaults and environment)'}: ok`];
  refuseStoreLostUnderServe(config, env, cwd);
  const store = await Store.open(config.db, {
    role: 'serve',
    source: config.dbSource,
    timeoutMs: config.limits.storeTimeoutMs,
  });
  lines.push(`store ${store.description}: ok${store.created ? ' (created)' : ''}`);
  await store.close();

  // A serve already running on this store holds these ports: that is no reason to refuse (run
  // while it runs, to check an edited file); on a restart systemd stops it before ExecStartPre.
  const runningPid = servePidOn(config, env, cwd);
  const listeners: Array<[string, ListenAddress, string]> = [['listen', config.listen, '--listen or listen:']];
  if (config.metricsListen) listeners.push(['metrics_listen', config.metricsListen, "metrics_listen: (or 'off')"]);
  if (config.adminListen && config.adminListen !== 'lapi') listeners.push(['admin_listen', config.adminListen, "admin_listen: (or 'lapi')"]);
  for (const [field, at, setting] of listeners) {
    const problem = await bindProblem(at);
    if (problem === null) lines.push(`${field} ${formatListen(at)}: free`);
    else if (problem === 'EADDRINUSE' && runningPid !== null)
      lines.push(`${field} ${formatListen(at)}: in use, by the vigil serve running on this store (pid ${runningPid}) it seems`);
    else if (problem === 'EADDRINUSE')
      throw new VigilError('E_LISTEN', `${field} ${formatListen(at)}: address already in use; stop the other server or pick another with ${setting}`);
    else if (problem === 'EACCES')
      throw new VigilError(
        'E_LISTEN',
        `${field} ${formatListen(at)}: permission denied; a port below 1024 needs CAP_NET_BIND_SERVICE (AmbientCapabilities= in the unit), or pick a port above 1023 with ${setting}`,
      );
    else throw new VigilError('E_LISTEN', `${field} ${formatListen(at)}: ${problem}`);
  }
  return lines;
}

/** Binds and closes at once: null when serve could bind there, else the error code (or message). */
function bindProblem(at: ListenAddress): Promise<string | null> {
  // Port 0 asks for any free port: nothing to check.
  if (at.port === 0) return Promise.resolve(null);
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE' ? 'EADDRINUSE' : (e.code ?? e.message)));
    server.listen({ port: at.port, host: at.host, exclusive: true }, () => server.close(() => resolve(null)));
  });
}
