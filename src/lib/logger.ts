import pino, { type Logger } from 'pino';

/** Vigil's structured logger (pino, JSON lines on stdout unless a destination is given). */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  // Keys never reach a log line: the key header is not logged anywhere, and this is a second net.
  return pino({ level, base: { svc: 'vigil' }, redact: ['req.headers["x-api-key"]', 'key', 'apiKey'] }, destination as never);
}
