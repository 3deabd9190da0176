import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from './processes.ts';

/** What a test receiver does with the next request. `hang`: read it, never answer. */
export type Answer = { status: number; body?: string } | 'hang';

export interface ReceivedRequest {
  at: number;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Parsed body (every Vigil message is JSON). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever fields the message they expect has
  json: any;
}

export interface HttpReceiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Requests read but not answered yet (`hang`). */
  hanging(): number;
  /** Resolves when the receiver has read `n` requests in total. */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback standing in for a webhook or Slack endpoint. `answers` says what
 * to do with request number n (0-based); past its end, 200 "ok" (Slack's answer).
 */
export async function startHttpReceiver(answers: Answer[] | ((n: number) => Answer) = [], port = 0): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  const hung = new Set<http.ServerResponse>();
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const answerFor = (n: number): Answer => (typeof answers === 'function' ? answers(n) : (answers[n] ?? { status: 200, body: 'ok' }));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const n = requests.length;
      requests.push({ at: Date.now(), method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json });
      for (const w of waiters.filter((w) => requests.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      const a = answerFor(n);
      if (a === 'hang') {
        hung.add(res);
        res.on('close', () => hung.delete(res));
        return;
      }
      res.writeHead(a.status, { 'Content-Type': 'text/plain' }).end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/hooks/secret-token-123`,
    port: bound,
    requests,
    hanging: () => hung.size,
    waitFor(n, timeoutMs = 20_000) {
      if (requests.length >= n) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver got ${requests.length} requests, expected ${n}`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve(requests)) });
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port nothing listens on (connections to it are refused) until someone binds it. */
export const unusedPort = freePort;
