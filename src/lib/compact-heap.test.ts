import { describe, expect, it } from 'vitest';
import { compactHeap } from './compact-heap.ts';

describe('compactHeap', () => {
  it("collects a load's garbage at once and exposes no global gc", () => {
    let garbage: number[][] | null = Array.from({ length: 400 }, (_, i) => Array.from({ length: 10_000 }, (_, j) => i + j + 0.5));
    const withGarbage = process.memoryUsage().heapUsed;
    expect(garbage.length).toBe(400);
    garbage = null;
    const pauseMs = compactHeap();
    expect(pauseMs).toBeTypeOf('number');
    // 4M boxed doubles in arrays: ~60 MB that only a collection frees.
    expect(withGarbage - process.memoryUsage().heapUsed).toBeGreaterThan(30 * 1024 * 1024);
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    expect(compactHeap()).toBeTypeOf('number');
  });
});
