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
 * How many parts of each delivery a receiver has accepted, so a retry resumes after them: Discord
 * and Teams have no idempotency key. In memory (a restart between two attempts may repeat a part),
 * and bounded: the oldest deliveries are forgotten first.
 */
export class AcceptedParts {
  static readonly KEPT = 1_000;
  #accepted = new Map<string, number>();

  of(deliveryId: string): number {
    return this.#accepted.get(deliveryId) ?? 0;
  }

  record(deliveryId: string, parts: number): void {
    this.#accepted.delete(deliveryId);
    this.#accepted.set(deliveryId, parts);
    if (this.#accepted.size > AcceptedParts.KEPT) this.#accepted.delete(this.#accepted.keys().next().value!);
  }

  forget(deliveryId: string): void {
    this.#accepted.delete(deliveryId);
  }
}

/**
 * POSTs each body in order, for receivers that take one card or message per request (Discord,
 * Teams). A failure part-way fails the message; its retry starts at the first part not accepted.
 * Answers with the receiver's answer, or with how many `parts` there were and the last answer.
 */
export async function postEachJson(
  url: string,
  bodies: readonly string[],
  timeoutMs: number,
  parts: string,
  delivery: { id: string; accepted: AcceptedParts },
): Promise<string> {
  const from = Math.min(delivery.accepted.of(delivery.id), bodies.length - 1);
  let last = '';
  for (let n = from; n < bodies.length; n++) {
    last = await postJson(url, bodies[n]!, {}, timeoutMs);
    delivery.accepted.record(delivery.id, n + 1);
  }
  delivery.accepted.forget(delivery.id);
  if (bodies.length === 1) return last;
  return `${bodies.length} ${parts}${from > 0 ? ` (the first ${from} accepted by an earlier attempt)` : ''}: ${last}`;
}
