import v8 from 'node:v8';
import vm from 'node:vm';

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

let gcFunction: GcFunction | null | undefined;

/**
 * V8's "last resort" collection: a full mark-compact that moves what is alive onto few pages and
 * hands the emptied ones back to the operating system. After a large first load (1M decisions) the
 * heap holds ~90 MB of the load's garbage on ~140 MB of pages; V8's own memory reducer returns them
 * only once the process has been idle for 10–30 s, so `vigil serve` sat at ~410 MB RSS where it
 * needs ~300 (issue 28: RSS at rest ≤ CrowdSec's). One call costs a pause of ~80 ms at 1M, paid
 * once, before the server answers from the loaded index. Node has no API for it without
 * `--expose-gc`: the flag is set for this call only and the function taken from a fresh context,
 * so nothing else sees a global `gc`. Returns the pause in ms, or null when V8 refused the flag.
 */
export function compactHeap(): number | null {
  if (gcFunction === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gcFunction = vm.runInNewContext('gc') as GcFunction;
    } catch {
      gcFunction = null;
    } finally {
      v8.setFlagsFromString('--no-expose-gc');
    }
  }
  if (!gcFunction) return null;
  const started = performance.now();
  gcFunction({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return performance.now() - started;
}
