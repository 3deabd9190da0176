/**
 * The heavy alerts requests in flight per machine (a search, a delete, a push over
 * {@link BIG_BODY_BYTES}): at most {@link HEAVY_PER_MACHINE} at once, the next one answered 429 with
 * `Retry-After` (issue 27: 6 concurrent 28 MB pushes took the server to 1.7 GB). cscli sends one
 * request at a time and an agent's pushes are small, so neither meets the bound.
 */
export const HEAVY_PER_MACHINE = 2;
/** Seconds a refused machine is told to wait. */
export const HEAVY_RETRY_AFTER_S = 1;

export class HeavyRequests {
  readonly #inFlight = new Map<string, number>();
  readonly #perMachine: number;

  constructor(perMachine = HEAVY_PER_MACHINE) {
    this.#perMachine = perMachine;
  }

  /** A release (safe to call twice) when the machine may go on; undefined when it has its share in flight. */
  enter(machineId: string): (() => void) | undefined {
    const n = this.#inFlight.get(machineId) ?? 0;
    if (n >= this.#perMachine) return undefined;
    this.#inFlight.set(machineId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inFlight.get(machineId) ?? 1) - 1;
      if (left <= 0) this.#inFlight.delete(machineId);
      else this.#inFlight.set(machineId, left);
    };
  }
}

/** A push whose body is over this many bytes as sent (gzip: over a tenth of it) is a big one. */
export const BIG_BODY_BYTES = 1024 * 1024;
/** Big pushes read and processed at once, all machines together; the others wait, body unread. */
export const BIG_BODIES_AT_ONCE = 2;
/** Big pushes that may wait; past it, 429. */
export const BIG_BODIES_WAITING = 64;

/** Whether a body of this Content-Length and Content-Encoding is a big one (no length: it may be). */
export function isBigBody(contentLength: string | undefined, contentEncoding: string | undefined): boolean {
  if (contentLength === undefined || !/^\d+$/.test(contentLength)) return true;
  const bytes = Number(contentLength);
  return /gzip/i.test(contentEncoding ?? '') ? bytes * 10 > BIG_BODY_BYTES : bytes > BIG_BODY_BYTES;
}

/**
 * Big pushes in turn, all machines together (a 28 MB push costs ~250 MB while it is parsed and
 * checked: 6 at once from 3 machines took the server to 1.6 GB). A waiting push's body stays in the
 * socket, unread, costing nothing; the request timeout still applies.
 */
export class BigBodies {
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  /** A release once this push may go on; undefined (answer 429) when too many already wait. */
  async enter(): Promise<(() => void) | undefined> {
    if (this.#running >= BIG_BODIES_AT_ONCE) {
      if (this.#waiting.length >= BIG_BODIES_WAITING) return undefined;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else this.#running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // The slot passes to the next in line as is (running stays the same).
      if (next) next();
      else this.#running--;
    };
  }
}
