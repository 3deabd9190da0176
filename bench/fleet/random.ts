// A seeded generator for the fleet simulation: the same seed gives the same fleet, noise and failures.
import { seededU32 } from '../support.ts';

export class Rng {
  #next: () => number;
  constructor(seed: number) {
    this.#next = seededU32(seed >>> 0);
  }
  /** Uniform in [0, 1). */
  float(): number {
    return this.#next() / 4294967296;
  }
  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }
  int(lo: number, hiExclusive: number): number {
    return Math.floor(this.between(lo, hiExclusive));
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }
  /** Exponential waiting time with this mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.float());
  }
  /** Poisson count with mean `lambda` (Knuth below 30, a rounded normal above: counts per minute are all we need). */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.float();
    while (p > limit && k < 200) {
      k++;
      p *= this.float();
    }
    return k;
  }
  normal(): number {
    const u = 1 - this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }
  /** A child generator for one bouncer, independent of how many numbers the others drew. */
  fork(salt: number): Rng {
    return new Rng((Math.imul(this.#next(), 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca6b)) >>> 0);
  }
}
