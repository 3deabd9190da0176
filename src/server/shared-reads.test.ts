import { describe, expect, it } from 'vitest';
import { BatchedRead } from './shared-reads.ts';

/** A read whose answer the test releases: what the store would return, when it returns it. */
function controlledRead() {
  const calls: Array<{ args: number[]; release: (v: number) => void; fail: (e: unknown) => void }> = [];
  const read = new BatchedRead<number, number>(
    (args) =>
      new Promise((resolve, reject) => {
        calls.push({ args, release: (v) => resolve(args.map((x) => x + v)), fail: reject });
      }),
  );
  return { read, calls };
}

describe('BatchedRead', () => {
  it('reads at once when idle; requests arriving meanwhile share the next read, started after they all arrived', async () => {
    const { read, calls } = controlledRead();
    const first = read.read(1);
    expect(calls.map((c) => c.args)).toEqual([[1]]);
    // Arrived after the first read started: its answer may predate them, so they wait for the next.
    const later = [read.read(2), read.read(3), read.read(4)];
    expect(calls).toHaveLength(1);
    calls[0]!.release(100);
    expect(await first).toBe(101);
    await Promise.resolve();
    expect(calls.map((c) => c.args)).toEqual([[1], [2, 3, 4]]);
    calls[1]!.release(1000);
    expect(await Promise.all(later)).toEqual([1002, 1003, 1004]);
    // Idle again: the next request reads alone, at once.
    const again = read.read(5);
    expect(calls).toHaveLength(3);
    calls[2]!.release(0);
    expect(await again).toBe(5);
  });

  it('a failed read fails its own batch only', async () => {
    const { read, calls } = controlledRead();
    const first = read.read(1);
    const second = read.read(2);
    calls[0]!.fail(new Error('store down'));
    await expect(first).rejects.toThrow('store down');
    await Promise.resolve();
    calls[1]!.release(10);
    expect(await second).toBe(12);
  });
});
