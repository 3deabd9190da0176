import { describe, expect, it } from 'vitest';
import type { Decision } from '../model/records.ts';
import { DecisionIndex } from './decision-index.ts';
import { longestPerValue, matchesStream, parseStreamQuery, type StreamQuery } from './query.ts';
import { buildStartupBody, startupBodyChunks, startupBodyJson } from './startup-body.ts';
import { streamJson } from './wire.ts';
import { runToEnd } from '../../lib/turns.ts';
import { runCountingPauses } from '../../../test/support/turns.ts';

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);

/** A small deterministic generator (no Math.random: a failure replays). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Decisions with what dedup and the filters care about: shared values, types, scopes, origins, simulated, expired, odd text. */
function decisions(n: number, seed: number): Decision[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: Decision[] = [];
  for (let id = 1; id <= n; id++) {
    const scope = pick(['Ip', 'Ip', 'Ip', 'Range', 'ip', 'Country']);
    const value =
      scope === 'Range' ? `198.51.${Math.floor(r() * 8)}.0/24` : scope === 'Country' ? pick(['FR', 'DE']) : `192.0.2.${Math.floor(r() * (n / 3 + 1))}`;
    out.push({
      id,
      alertId: id,
      origin: pick(['crowdsec', 'cscli', 'CAPI', 'lists']),
      type: pick(['ban', 'ban', 'captcha']),
      scope,
      value,
      scenario: pick(['crowdsecurity/ssh-bf', 'say "hi" \u00e9\u2028', 'bench']),
      createdAt: NOW - 3600_000,
      // Some expired, many sharing an expiry (an import), some in the next minutes.
      until: NOW + pick([-7200_000, -1000, 0, 1500, 60_000, 3600_000, 3600_000, 86_400_000]) + Math.floor(r() * 3) * 250,
      deletedAt: null,
      simulated: r() < 0.05,
    });
  }
  return out;
}

const byUntilThenId = (a: Decision, b: Decision): number => a.until - b.until || a.id - b.id;

/** The startup body as decision-routes.ts computed it before bodies were shared: from scratch at `at`. */
function startupAsBefore(all: readonly Decision[], q: StreamQuery, at: number): string {
  let added = all.filter((d) => d.until > at).sort(byUntilThenId);
  let deleted = all.filter((d) => d.until <= at).sort(byUntilThenId);
  if (q.dedup) {
    const longest = longestPerValue(added.concat(deleted), () => []);
    added = added.filter((d) => longest.has(d));
    deleted = deleted.filter((d) => longest.has(d));
  }
  added = added.filter((d) => !d.simulated && matchesStream(d, q));
  deleted = deleted.filter((d) => !d.simulated && matchesStream(d, q));
  return streamJson(deleted, added, at);
}

function indexOf(all: readonly Decision[]): DecisionIndex {
  const index = new DecisionIndex();
  for (const d of all) index.upsert(d);
  return index;
}

const QUERIES = [
  '',
  'dedup=false',
  'scopes=ip,range,country',
  'origins=cscli,lists',
  'scenarios_containing=ssh&scenarios_not_containing=bench',
  'dedup=false&scopes=Country',
].map((s) => parseStreamQuery(new URLSearchParams(s)));

describe('a shared startup body', () => {
  it('is byte for byte the body computed afresh, at the time it was built and at later times', () => {
    for (const seed of [1, 2, 3]) {
      const all = decisions(600, seed);
      const index = indexOf(all);
      for (const q of QUERIES) {
        const body = runToEnd(buildStartupBody(index.active(NOW), all.filter((d) => d.until <= NOW).sort(byUntilThenId), index, q, NOW));
        // Later requests reuse it: decisions that expired meanwhile move from `new` to `deleted`.
        for (const at of [NOW, NOW + 1, NOW + 1500, NOW + 59_999, NOW + 3600_250, NOW + 90_000_000]) {
          const expected = startupAsBefore(all, q, at);
          expect(startupBodyJson(body, at)).toBe(expected);
          for (const perChunk of [1, 7, 2000]) {
            expect(Buffer.concat([...startupBodyChunks(body, at, perChunk)]).toString('utf8')).toBe(expected);
          }
        }
      }
    }
  });

  it("keeps the longer decision of a value when the shorter one is the index's and the longer one expired later in the store", () => {
    // Same value, type and scope: the active one outlives the stored expired one, so only it is sent.
    const active: Decision = { ...decisions(1, 9)[0]!, id: 2, scope: 'Ip', value: '192.0.2.9', type: 'ban', until: NOW + 60_000, simulated: false };
    const expired: Decision = { ...active, id: 1, until: NOW - 5_000 };
    const index = indexOf([active]);
    const q = parseStreamQuery(new URLSearchParams(''));
    const body = runToEnd(buildStartupBody(index.active(NOW), [expired], index, q, NOW));
    expect(JSON.parse(startupBodyJson(body, NOW))).toMatchObject({ deleted: null, new: [{ id: 2 }] });
    expect(startupBodyJson(body, NOW)).toBe(startupAsBefore([active, expired], q, NOW));
  });

  it('answers null for both lists when nothing is held', () => {
    const body = runToEnd(buildStartupBody([], [], new DecisionIndex(), parseStreamQuery(new URLSearchParams('')), NOW));
    expect(startupBodyJson(body, NOW)).toBe('{"deleted":null,"new":null}');
    expect(Buffer.concat([...startupBodyChunks(body, NOW, 10)]).toString()).toBe('{"deleted":null,"new":null}');
  });

  it('leaves out a decision deleted while the body is built in slices (the next delta sends the deletion)', () => {
    const all = decisions(30_000, 5).map((d) => ({ ...d, until: NOW + 3600_000, simulated: false, scope: 'Ip', value: `v${d.id}` }));
    const index = indexOf(all);
    const q = parseStreamQuery(new URLSearchParams('dedup=false'));
    const steps = buildStartupBody(index.activeList(NOW), [], index, q, NOW);
    steps.next();
    // After the first slice: one decision still to come is removed, another changes its expiry.
    index.remove(29_000);
    index.upsert({ ...all[28_999 - 1]!, until: NOW + 7200_000 });
    let s = steps.next();
    while (!s.done) s = steps.next();
    const sent = (JSON.parse(startupBodyJson(s.value, NOW)) as { new: Array<{ id: number }> }).new.map((d) => d.id);
    expect(sent).toHaveLength(29_998);
    expect(sent).not.toContain(29_000);
    expect(sent).not.toContain(28_999);
  });

  it('pauses between slices, so a large build never holds the event loop', () => {
    const all = decisions(25_000, 4).map((d) => ({ ...d, until: NOW + 3600_000 }));
    const index = indexOf(all);
    const steps = buildStartupBody(index.active(NOW), [], index, parseStreamQuery(new URLSearchParams('dedup=false&scopes=ip,range,country')), NOW);
    const { pauses } = runCountingPauses(steps);
    expect(pauses).toBeGreaterThanOrEqual(2);
  });
});
