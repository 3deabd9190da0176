/**
 * Slows down password guessing: after MAX_FAILURES wrong secrets from one address within WINDOW_MS,
 * that address is refused until the oldest failure leaves the window. Time comes from the Clock.
 */
export const MAX_FAILURES = 5;
export const WINDOW_MS = 5 * 60_000;
/** Bounded memory when many addresses fail (a spray): the oldest are forgotten first. */
const MAX_ADDRESSES = 10_000;

export class LoginThrottle {
  #failures = new Map<string, number[]>();

  /** Milliseconds until this address may try again; 0 when it may now. */
  retryAfter(address: string, now: number): number {
    const times = this.#recent(address, now);
    return times.length >= MAX_FAILURES ? times[0]! + WINDOW_MS - now : 0;
  }

  failed(address: string, now: number): void {
    const times = this.#recent(address, now);
    times.push(now);
    this.#failures.delete(address);
    this.#failures.set(address, times);
    if (this.#failures.size > MAX_ADDRESSES) this.#failures.delete(this.#failures.keys().next().value!);
  }

  succeeded(address: string): void {
    this.#failures.delete(address);
  }

  #recent(address: string, now: number): number[] {
    return (this.#failures.get(address) ?? []).filter((t) => t > now - WINDOW_MS);
  }
}
