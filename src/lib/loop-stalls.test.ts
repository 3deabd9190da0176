import { describe, expect, it } from 'vitest';
import { probeLoopStalls, type LoopTick } from './loop-stalls.ts';

/** Holds the event loop until the main thread has spent `ms` of CPU (not of wall time: the machine may be busy). */
function holdForCpu(ms: number): void {
  const start = process.threadCpuUsage();
  for (;;) {
    const spent = process.threadCpuUsage(start);
    if ((spent.user + spent.system) / 1000 >= ms) return;
  }
}

const nextTick = (ticks: LoopTick[], after: number) =>
  new Promise<LoopTick>((resolve, reject) => {
    const timer = setInterval(() => {
      if (ticks.length > after) {
        clearInterval(timer);
        resolve(ticks[after]!);
      }
    }, 1);
    setTimeout(() => reject(new Error('no tick within 5 s')), 5_000).unref();
  });

describe('event-loop stall probe', () => {
  it('reports a block of work as the CPU the main thread spent and the delay it caused', async () => {
    const ticks: LoopTick[] = [];
    const stop = probeLoopStalls((t) => ticks.push(t), 10);
    try {
      await nextTick(ticks, 0);
      const before = ticks.length;
      holdForCpu(80);
      const after = await nextTick(ticks, before);
      // The tick right after the block saw all of it, in CPU and (at least as much) in wall time.
      expect(after.cpuMs).toBeGreaterThanOrEqual(80);
      expect(after.lateMs).toBeGreaterThanOrEqual(80 - 10);
    } finally {
      stop();
    }
  });

  it('stops ticking once stopped', async () => {
    const ticks: LoopTick[] = [];
    const stop = probeLoopStalls((t) => ticks.push(t), 5);
    await nextTick(ticks, 1);
    stop();
    const seen = ticks.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(ticks.length).toBe(seen);
  });
});
