import type http from 'node:http';
import type { ListenAddress } from '../lib/listen-address.ts';
import { bindListener } from '../lib/listen.ts';
import { applyTimeouts } from './limits.ts';

/**
 * Binds an HTTP server, turning the usual failures into one line that names the setting and the
 * fix (`field` is the configuration key, `inUseFix` what to do when the port is taken).
 */
export async function listenOn(server: http.Server, at: ListenAddress, field: string, inUseFix: string): Promise<void> {
  // Go's net/http keeps connections alive; so do we, bounded so idle or slow sockets do not pile up
  // (a listener guarded by guardListener keeps its configured limits).
  applyTimeouts(server);
  await bindListener(server, at, field, inUseFix);
}
