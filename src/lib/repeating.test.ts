import { describe, expect, it } from 'vitest';
import { Repeating } from './repeating.ts';

/** Resolves with the first value `subscribe` hands over, or rejects after `ms` (no run at all). */
function first<T>(subscribe: (listener: (v: T) => void) => () => void, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing within ${ms} ms`)), ms);
    const stop = subscribe((v) => {
      clearTimeout(timer);
      stop();
      resolve(v);
    });
  });
}

describe('Repeating', () => {
  it('runs the job again and again, and publishes a failed run on `failed`', async () => {
    let runs = 0;
    const job = new Repeating(async () => {
      runs++;
      if (runs === 3) throw new Error('store down');
    });
    const failure = first<unknown>((l) => job.failed.subscribe(l), 5000);
    job.start(1);
    try {
      expect(await failure).toEqual(new Error('store down'));
      expect(runs).toBeGreaterThanOrEqual(3);
    } finally {
      job.stop();
    }
  });
});
