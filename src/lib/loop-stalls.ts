/**
 * How long the event loop is held between two turns, measured in the process: a timer every
 * {@link PROBE_EVERY_MS}; each tick reports how late it came (wall time: what a bouncer's pull
 * waiting behind the work felt) and how much CPU the main thread spent since the previous tick
 * (the work itself: on a busy machine the wall time also counts the moments the process was not
 * scheduled, the CPU time does not). Issue 27: no watcher request may hold the loop for more than 50 ms.
 */

/** How often the probe ticks. Short enough to see a 20 ms block, long enough to cost nothing. */
export const PROBE_EVERY_MS = 10;

export interface LoopTick {
  /** How much later than due this tick came: the longest wait a request arriving in between had. */
  lateMs: number;
  /**
   * CPU time of the main thread since the previous tick: the longest block in between was at most
   * this long (and at least this less the period, when the small turns filled it).
   */
  cpuMs: number;
  /** When the tick came (process.hrtime, ns): to find the work in a --cpu-prof profile. */
  atNs: bigint;
}

/** The main thread's CPU time in µs (Node ≥ 23.9; the whole process's before, an upper bound). */
const threadCpuUs = (): number => {
  const u = typeof process.threadCpuUsage === 'function' ? process.threadCpuUsage() : process.cpuUsage();
  return u.user + u.system;
};

/** Starts the probe; `onTick` gets every tick. Returns the stop. The timer never keeps the process alive. */
export function probeLoopStalls(onTick: (tick: LoopTick) => void, everyMs = PROBE_EVERY_MS): () => void {
  let lastNs = process.hrtime.bigint();
  let lastCpuUs = threadCpuUs();
  const timer = setInterval(() => {
    const nowNs = process.hrtime.bigint();
    const cpuUs = threadCpuUs();
    const wallMs = Number(nowNs - lastNs) / 1e6;
    const cpuMs = (cpuUs - lastCpuUs) / 1000;
    lastNs = nowNs;
    lastCpuUs = cpuUs;
    onTick({ lateMs: Math.max(0, wallMs - everyMs), cpuMs, atNs: nowNs });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
