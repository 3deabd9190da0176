import { VigilError } from './errors.ts';

/** Where a listener binds: what `listen`, `metrics_listen`, `admin_listen` and the daemons' `listen` say. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[V6]:PORT` or `:PORT` (all interfaces). */
export function parseListen(text: string, where = 'listen'): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 0 || port > 65535) {
    throw new VigilError('E_CONFIG', `${where} "${text}": use HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080 (port 0 picks a free one)`);
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export function formatListen(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
