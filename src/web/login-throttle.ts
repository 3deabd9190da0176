/**
 * Slows down password guessing, per address and across all addresses. Pure bookkeeping: time
 * comes from the caller (the Clock), nothing is stored.
 *
 * An attempt takes its slot before the secret is checked and counts as a failure from then on,
 * until it succeeds: the check (scrypt) is asynchronous, and counting only finished failures let
 * 60 concurrent guesses all through before the first was recorded.
 *
 * The numbers: the password is random (≈99 bits) and the token more so, so no rate makes guessing
 * practical; the limits bound the scrypt work (each check is ~0.1 s and 32 MiB on the libuv
 * threadpool, shared with file I/O) and the log noise. Per address: 5 failures in 5 minutes, well
 * above an operator's typo or two. Across all addresses: 20 failures in 5 minutes, so a spray from
 * many addresses (20 × 5 guesses) is cut to 20 checks; several operators each mistyping once or
 * twice stay far below it. While either limit holds, every attempt it covers is refused without a
 * check, even the right password: a lockout only ends when the window passes.
 */
export const MAX_FAILURES = 5;
export const GLOBAL_MAX_FAILURES = 20;
export const WINDOW_MS = 5 * 60_000;
/** Bounded memory when many addresses fail (a spray): the oldest are forgotten first. */
const MAX_ADDRESSES = 10_000;

/** Why an attempt was refused, and for how long. */
export interface ThrottleRefusal {
  /** 'address': this address failed too often; 'global': all addresses together did. */
  reason: 'address' | 'global';
  retryAfterMs: number;
}

/** An attempt holding its slot: a failure unless told it succeeded. */
export interface LoginAttempt {
  succeeded(): void;
}

export class LoginThrottle {
  #byAddress = new Map<string, number[]>();
  #all: number[] = [];

  /**
   * Takes a slot for an attempt from `address` now, counted as a failure until it succeeds; or, when
   * a limit is reached, says why and until when (and takes nothing). Synchronous on purpose: no
   * other request runs between the check and the taking.
   */
  begin(address: string, now: number): LoginAttempt | ThrottleRefusal {
    const mine = this.#recent(address, now);
    this.#all = this.#all.filter((t) => t > now - WINDOW_MS);
    const waitMine = mine.length >= MAX_FAILURES ? mine[0]! + WINDOW_MS - now : 0;
    const waitAll = this.#all.length >= GLOBAL_MAX_FAILURES ? this.#all[0]! + WINDOW_MS - now : 0;
    if (waitMine > 0 || waitAll > 0) {
      return waitMine >= waitAll ? { reason: 'address', retryAfterMs: waitMine } : { reason: 'global', retryAfterMs: waitAll };
    }
    mine.push(now);
    this.#all.push(now);
    this.#byAddress.delete(address);
    this.#byAddress.set(address, mine);
    if (this.#byAddress.size > MAX_ADDRESSES) this.#byAddress.delete(this.#byAddress.keys().next().value!);
    let done = false;
    return {
      succeeded: () => {
        if (done) return;
        done = true;
        // The address starts afresh; the global count loses only this attempt's slot.
        this.#byAddress.delete(address);
        const i = this.#all.indexOf(now);
        if (i !== -1) this.#all.splice(i, 1);
      },
    };
  }

  #recent(address: string, now: number): number[] {
    return (this.#byAddress.get(address) ?? []).filter((t) => t > now - WINDOW_MS);
  }
}

export function isRefusal(r: LoginAttempt | ThrottleRefusal): r is ThrottleRefusal {
  return 'retryAfterMs' in r;
}
