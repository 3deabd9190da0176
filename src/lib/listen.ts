import type http from 'node:http';
import { VigilError } from './errors.ts';
import { formatListen, type ListenAddress } from './listen-address.ts';

/**
 * Binds an HTTP server, turning the usual failures into one line that names the setting and the
 * fix (`field` is the configuration key, `inUseFix` what to do when the port is taken). Every
 * listener of Vigil's binds through here (the Local API's adds its timeouts: server/listen.ts).
 */
export async function bindListener(server: http.Server, at: ListenAddress, field: string, inUseFix: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = `${field} ${formatListen(at)}`;
      reject(new VigilError('E_LISTEN', e.code === 'EADDRINUSE' ? `${where}: address already in use; ${inUseFix}` : `${where}: ${e.message}`));
    });
    server.listen(at.port, at.host, () => resolve());
  });
}
