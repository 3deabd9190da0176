/**
 * The worker thread of alert-parser.ts: a big POST /v1/alerts body (bytes as sent) is inflated,
 * decoded, parsed and checked here, off the event loop that answers bouncers, and the checked
 * alerts go back a batch at a time when asked (one batch per turn there). The garbage of a 28 MB
 * parse stays in this thread's heap: the main thread's collector never pauses for it.
 */
import { parentPort } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { parseAlertsPayload, type IncomingAlert } from '../../core/alerts/payload.ts';
import { goJsonError } from './go-json-error.ts';
import type { ToParser, ToServer } from './alert-parse-messages.ts';

/** Items (alerts, their decisions and events) in one batch sent back: a millisecond or two to receive. */
const BATCH_ITEMS = 2_000;

interface Job {
  chunks: Uint8Array[];
  alerts: IncomingAlert[];
  sent: number;
}

const jobs = new Map<number, Job>();
const port = parentPort!;
const send = (m: ToServer) => port.postMessage(m);

function parse(id: number, job: Job, gzip: boolean, cap: number): void {
  let bytes: Buffer = Buffer.concat(job.chunks);
  job.chunks = [];
  if (gzip) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: cap });
    } catch (e) {
      const tooLarge = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
      jobs.delete(id);
      send({ id, kind: 'failed', code: tooLarge ? 'E_BODY_TOO_LARGE' : 'E_BAD_BODY' });
      return;
    }
  }
  const text = bytes.toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    jobs.delete(id);
    send({ id, kind: 'refused', status: 400, message: goJsonError(text) });
    return;
  }
  const parsed = parseAlertsPayload(data);
  if (!parsed.ok) {
    jobs.delete(id);
    send({ id, kind: 'refused', status: parsed.status, message: parsed.message });
    return;
  }
  job.alerts = parsed.alerts;
  send({ id, kind: 'parsed', count: parsed.alerts.length });
}

function nextBatch(id: number, job: Job): void {
  const batch: IncomingAlert[] = [];
  let items = 0;
  while (job.sent < job.alerts.length && items < BATCH_ITEMS) {
    const a = job.alerts[job.sent++]!;
    batch.push(a);
    items += 1 + (a.decisions?.length ?? 0) + a.events.length;
  }
  if (job.sent >= job.alerts.length) jobs.delete(id);
  send({ id, kind: 'alerts', alerts: batch });
}

port.on('message', (m: ToParser) => {
  let job = jobs.get(m.id);
  switch (m.kind) {
    case 'bytes':
      if (!job) jobs.set(m.id, (job = { chunks: [], alerts: [], sent: 0 }));
      job.chunks.push(m.bytes);
      return;
    case 'end':
      job ??= { chunks: [], alerts: [], sent: 0 };
      jobs.set(m.id, job);
      try {
        return parse(m.id, job, m.gzip, m.cap);
      } catch (e) {
        jobs.delete(m.id);
        return send({ id: m.id, kind: 'crashed', message: (e as Error).message });
      }
    case 'next':
      if (job) return nextBatch(m.id, job);
      return send({ id: m.id, kind: 'alerts', alerts: [] });
    case 'drop':
      jobs.delete(m.id);
      return;
  }
});
