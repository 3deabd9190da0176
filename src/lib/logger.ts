import pino, { type Logger } from 'pino';

/** Where log lines go: a stream, or a function given each line (the CLI's io, a test's array). */
export type LogDestination = NodeJS.WritableStream | ((line: string) => void);

/**
 * Vigil's structured logger (pino, JSON lines on stdout unless a destination is given), for
 * `vigil serve`, `vigil watch` and the forward-auth bouncer alike; `svc` names the program.
 */
export function createLogger(level: string, destination?: LogDestination, opts: { svc?: string } = {}): Logger {
  const stream = typeof destination === 'function' ? { write: (line: string) => (destination(line), true) } : destination;
  // Keys never reach a log line: the key header is not logged anywhere, and this is a second net.
  return pino({ level, base: { svc: opts.svc ?? 'vigil' }, redact: ['req.headers["x-api-key"]', 'key', 'apiKey', 'api_key'] }, stream as never);
}
