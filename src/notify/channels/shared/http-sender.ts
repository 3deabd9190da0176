import http from 'node:http';
import https from 'node:https';
import { DeliveryError, withDeadline } from './delivery-error.ts';

// Names the body format (WEBHOOK_BODY_VERSION), not the release: receivers key on what they parse.
export const USER_AGENT = 'vigil-notifications/1';
// Every HTTP channel sends these, so receivers can drop a duplicate and route by event.
export const DELIVERY_HEADER = 'X-Vigil-Delivery';
export const EVENT_HEADER = 'X-Vigil-Event';
// A receiver's answer is shown and stored, not processed: a short prefix is enough.
const ANSWER_KEPT = 300;

/** Statuses worth retrying: the receiver is busy, rate-limiting or broken for now. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * POSTs `body` and resolves with `HTTP <status> <answer>` when the receiver accepts it (2xx).
 * Redirects are not followed (a webhook URL that moved is a configuration to fix, and following
 * one would hand the body to another host). The whole exchange is bounded by `timeoutMs`; the
 * error never contains the URL (its path may be the secret).
 */
export async function postJson(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<string> {
  const u = new URL(url);
  const client = u.protocol === 'https:' ? https : http;
  let req: http.ClientRequest | undefined;
  const work = new Promise<string>((resolve, reject) => {
    req = client.request(
      u,
      {
        method: 'POST',
        agent: false,
        headers: { 'User-Agent': USER_AGENT, ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < ANSWER_KEPT) chunks.push(c);
          size += c.length;
        });
        res.on('error', (e) => reject(new DeliveryError(`reading the answer: ${e.message}`, false)));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8').slice(0, ANSWER_KEPT).replace(/\s+/g, ' ').trim();
          const answer = `HTTP ${status}${text ? ` ${text}` : ''}`;
          if (status >= 200 && status < 300) resolve(answer);
          else reject(new DeliveryError(answer, !isTransientStatus(status)));
        });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => reject(new DeliveryError(e.message || e.code || 'connection failed', false)));
    req.end(body);
  });
  return await withDeadline(timeoutMs, work, () => req?.destroy());
}

/**
 * POSTs each body in order, for receivers that take one card or message per request (Discord,
 * Teams). A failure part-way fails the message and the outbox re-sends all of it: neither has an
 * idempotency key, so a retry may repeat the first parts. Answers with the receiver's answer, or
 * with how many `parts` were sent and the last answer.
 */
export async function postEachJson(url: string, bodies: readonly string[], timeoutMs: number, parts: string): Promise<string> {
  const answers: string[] = [];
  for (const body of bodies) answers.push(await postJson(url, body, {}, timeoutMs));
  return answers.length === 1 ? answers[0]! : `${answers.length} ${parts}: ${answers.at(-1)}`;
}
