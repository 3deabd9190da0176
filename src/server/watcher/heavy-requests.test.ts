import { describe, expect, it } from 'vitest';
import { BIG_BODIES_AT_ONCE, BIG_BODIES_WAITING, BigBodies, HEAVY_PER_MACHINE, HeavyRequests, isBigBody } from './heavy-requests.ts';

describe('heavy alerts requests', () => {
  it('lets each machine have its share in flight, no more, and frees it once', () => {
    const heavy = new HeavyRequests();
    const mine = Array.from({ length: HEAVY_PER_MACHINE }, () => heavy.enter('m1'));
    expect(mine.every((r) => r !== undefined)).toBe(true);
    expect(heavy.enter('m1')).toBeUndefined();
    expect(heavy.enter('m2')).toBeDefined();
    mine[0]!();
    mine[0]!(); // twice: still one slot
    expect(heavy.enter('m1')).toBeDefined();
    expect(heavy.enter('m1')).toBeUndefined();
  });

  it('runs big pushes in turn, in order, and refuses past the waiting line', async () => {
    const big = new BigBodies();
    const running = await Promise.all(Array.from({ length: BIG_BODIES_AT_ONCE }, () => big.enter()));
    const order: number[] = [];
    const waiting = Array.from({ length: BIG_BODIES_WAITING }, (_, i) =>
      big.enter().then((release) => {
        order.push(i);
        release?.();
      }),
    );
    expect(await big.enter()).toBeUndefined();
    expect(order).toEqual([]);
    for (const release of running) release!();
    await Promise.all(waiting);
    expect(order).toEqual(Array.from({ length: BIG_BODIES_WAITING }, (_, i) => i));
  });

  it('tells a big body from its Content-Length and Content-Encoding', () => {
    expect(isBigBody('6269', undefined)).toBe(false);
    expect(isBigBody(String(2 * 1024 * 1024), undefined)).toBe(true);
    expect(isBigBody('200000', 'gzip')).toBe(true);
    expect(isBigBody(undefined, undefined)).toBe(true);
  });
});
