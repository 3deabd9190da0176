import { alertJsonPieces } from '../../core/alerts/alert-json.ts';
import { alertMatches, type AlertFilter } from '../../core/alerts/query.ts';
import type { Decision } from '../../core/model/records.ts';
import { fairTurn } from '../../lib/turns.ts';
import { alertExtras, alertIdBounds, alertsInIdWindow, decisionsOfAlerts, type AlertColumnsFilter, type StoredAlert } from '../../store/alerts.ts';
import type { Store } from '../../store/store.ts';

/**
 * GET/DELETE /v1/alerts searches without holding the event loop (issue 27: 8 concurrent searches
 * over 21k alerts held bouncer lookups for 4 s): the alerts are read a window of ids at a time with
 * the column filters in SQL, a turn of the event loop between windows; the answer is written a few
 * alerts at a time, their events read only then.
 */

export type Found = { alert: StoredAlert; decisions: Decision[] };

/** Alert ids per query of a search. */
const WINDOW = 1000;
/** Bytes of answer written between two turns. */
const ANSWER_SLICE = 256 * 1024;
/** Alerts whose events (extra) are read at once while answering (at most 512 KiB each). */
const EXTRAS_AT_ONCE = 16;

/** The alerts a filter selects, newest first by default, with all their decisions; `extra` not read. */
export async function selectAlerts(store: Store, f: AlertFilter, now: number, limit: number | null): Promise<Found[]> {
  const bounds = await alertIdBounds(store);
  if (!bounds) return [];
  const columns: AlertColumnsFilter = { simulated: f.simulated };
  if (f.scenario !== undefined) columns.scenario = f.scenario;
  if (f.scope !== undefined) columns.scope = f.scope;
  if (f.value !== undefined) columns.value = f.value;
  if (f.kind !== undefined) columns.kind = f.kind;
  if (f.since !== undefined) columns.since = f.since;
  if (f.until !== undefined) columns.until = f.until;
  // cscli decisions list: only alerts with an active decision can match.
  if (f.hasActiveDecision === true) columns.activeAt = now;
  const out: Found[] = [];
  for (let w = 0; ; w++) {
    const from = f.sort === 'desc' ? bounds.max - (w + 1) * WINDOW + 1 : bounds.min + w * WINDOW;
    const to = from + WINDOW - 1;
    if (to < bounds.min || from > bounds.max) return out;
    const candidates = await alertsInIdWindow(store, from, to, columns, f.sort);
    if (candidates.length > 0) {
      const byAlert = await decisionsOfAlerts(
        store,
        candidates.map((a) => a.id),
      );
      for (const a of candidates) {
        const ds = byAlert.get(a.id) ?? [];
        if (alertMatches(a, ds, f, now)) out.push({ alert: a, decisions: ds });
        if (limit !== null && out.length >= limit) return out;
      }
    }
    await fairTurn();
  }
}

/**
 * The JSON array of `found` as a stream: a few alerts' events read at a time, written as the client
 * takes them, a turn of the event loop every {@link ANSWER_SLICE} bytes. `onEnd` runs once, when
 * the answer is written, fails or the client goes.
 */
export function alertsAnswer(store: Store, found: readonly Found[], withDecisions: boolean, now: number, onEnd: () => void): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let next = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (next >= found.length) {
            controller.enqueue(encoder.encode(']'));
            controller.close();
            onEnd();
            return;
          }
          const group = found.slice(next, next + EXTRAS_AT_ONCE);
          const extras = await alertExtras(
            store,
            group.map((x) => x.alert.id),
          );
          let text = '';
          for (const x of group) {
            text += next === 0 ? '[' : ',';
            next++;
            const alert = { ...x.alert, extra: extras.get(x.alert.id) ?? '{}' };
            for (const piece of alertJsonPieces(alert, withDecisions ? x.decisions : [], now)) {
              text += piece;
              if (text.length >= ANSWER_SLICE) {
                controller.enqueue(encoder.encode(text));
                text = '';
                await fairTurn();
              }
            }
          }
          if (text !== '') controller.enqueue(encoder.encode(text));
        } catch (e) {
          onEnd();
          controller.error(e);
        }
      },
      cancel() {
        onEnd();
      },
    },
    { highWaterMark: 0 },
  );
}
