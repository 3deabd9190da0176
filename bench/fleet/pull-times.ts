/** The last N stream pull times of a bouncer, as Vigil's activity recorder keeps them (a ring, oldest dropped). */
export class PullTimes {
  #buf: Float64Array;
  #head = 0;
  length = 0;
  constructor(size: number) {
    this.#buf = new Float64Array(size);
  }
  push(t: number): void {
    this.#buf[(this.#head + this.length) % this.#buf.length] = t;
    if (this.length < this.#buf.length) this.length++;
    else this.#head = (this.#head + 1) % this.#buf.length;
  }
  clear(): void {
    this.#head = 0;
    this.length = 0;
  }
  /** Oldest first, as `pullCadence` takes them. */
  times(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.length; i++) out.push(this.#buf[(this.#head + i) % this.#buf.length]!);
    return out;
  }
}
