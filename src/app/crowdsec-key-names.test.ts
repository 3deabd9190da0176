import { describe, expect, it } from 'vitest';
import { keyFingerprint } from '../core/bouncers/api-key.ts';
import { ManualClock } from '../lib/clock.ts';
import type { CrowdsecKeys } from '../watch/crowdsec-keys.ts';
import { crowdsecKeyNames } from './crowdsec-key-names.ts';

const SECRET = Buffer.alloc(32, 7);
const HASH = 'ab'.repeat(64);

describe("crowdsecKeyNames: CrowdSec's bouncer keys for the health evaluation", () => {
  it('a CrowdSec database that does not answer never holds the evaluation; its names come once it does', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 8));
    let answer: (k: CrowdsecKeys) => void = () => {};
    let reads = 0;
    const names = crowdsecKeyNames('/etc/crowdsec/config.yaml', {}, SECRET, clock, () => {
      reads++;
      return new Promise<CrowdsecKeys>((resolve) => (answer = resolve));
    });
    const fp = keyFingerprint(SECRET, HASH);
    // Before, this waited for the database (up to its connection timeout, every evaluation).
    expect((await names([fp])).size).toBe(0);
    answer({ ok: true, db: 'postgres://crowdsec@db:5432/crowdsec', nameOfHash: new Map([[HASH, 'cs-firewall-bouncer-1']]) });
    await new Promise((r) => setImmediate(r));
    // Read once for both calls: the second evaluation finds what the first started.
    clock.advance(6_000);
    expect((await names([fp])).get(fp)).toBe('cs-firewall-bouncer-1');
    expect(reads).toBe(1);
  });
});
