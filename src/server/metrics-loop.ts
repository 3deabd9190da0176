import type { Logger } from 'pino';
import { Histogram, type Registry } from 'prom-client';
import { probeLoopStalls } from '../lib/loop-stalls.ts';

/** Buckets in seconds: the 50 ms a bouncer's pull may wait behind other work (issue 27) sits in the middle. */
const BUCKETS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** A tick this late or this busy is logged at debug level, with its time for a --cpu-prof profile. */
const LOG_OVER_MS = 20;

/**
 * The event loop's stalls as histograms: `vigil_event_loop_delay_seconds` (how late a 10 ms timer
 * came: what a pull arriving meanwhile waited) and `vigil_event_loop_busy_seconds` (the main
 * thread's CPU between two ticks: the work that held it, without the time a busy machine did not
 * schedule the process). Returns the probe's stop.
 */
export function registerLoopMetrics(registry: Registry, log?: Logger): () => void {
  const delay = new Histogram({
    name: 'vigil_event_loop_delay_seconds',
    help: 'How late a 10 ms timer came on the event loop: the longest a request arriving meanwhile waited (wall time; a busy machine adds to it).',
    buckets: BUCKETS,
    registers: [registry],
  });
  const busy = new Histogram({
    name: 'vigil_event_loop_busy_seconds',
    help: "The main thread's CPU time between two 10 ms ticks of the event loop: a block of work is at most this long (not counting the time the machine did not run the process).",
    buckets: BUCKETS,
    registers: [registry],
  });
  return probeLoopStalls((tick) => {
    delay.observe(tick.lateMs / 1000);
    busy.observe(tick.cpuMs / 1000);
    if (log && (tick.lateMs > LOG_OVER_MS || tick.cpuMs > LOG_OVER_MS + 10))
      log.debug({ lateMs: Math.round(tick.lateMs), cpuMs: Math.round(tick.cpuMs), atUs: String(tick.atNs / 1000n) }, 'event loop held');
  });
}
