/**
 * JSON.parse in slices: a generator (run it with turns.ts runInTurns) that pauses about every
 * {@link SLICE} characters, so a 30 MB body is parsed without holding the event loop for the
 * 100+ ms one JSON.parse of it takes. Containers and strings small enough are handed to JSON.parse
 * whole (native speed); only the big ones are walked here. Same result and same SyntaxError cases
 * as JSON.parse, except that a container over {@link WHOLE} characters nested deeper than
 * {@link MAX_DEPTH} is refused (no request body Vigil reads has one).
 */

/** A container whose text is at most this long is parsed by JSON.parse at once (well under 1 ms). */
const WHOLE = 64 * 1024;
/** Characters handled between two pauses. */
const SLICE = 64 * 1024;
/** Depth at which a container still too big for {@link WHOLE} is refused. */
const MAX_DEPTH = 16;

const SCALAR = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

export function* parseJsonInTurns(text: string): Generator<void, unknown> {
  const p = new Parser(text);
  const v = yield* p.value(0);
  p.skipSpace();
  if (p.pos !== text.length) throw p.fail();
  return v;
}

class Parser {
  pos = 0;
  #sincePause = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  fail(): SyntaxError {
    return new SyntaxError(`JSON: unexpected input at position ${this.pos}`);
  }

  skipSpace(): void {
    const t = this.#text;
    for (;;) {
      const c = t.charCodeAt(this.pos);
      if (c === 32 || c === 10 || c === 13 || c === 9) this.pos++;
      else return;
    }
  }

  /** Whether it is time to pause (the caller yields). */
  #advance(to: number): boolean {
    this.#sincePause += to - this.pos;
    this.pos = to;
    if (this.#sincePause < SLICE) return false;
    this.#sincePause = 0;
    return true;
  }

  /** The index of the bracket closing the container at `from`, if within {@link WHOLE} characters; else -1. */
  #closeWithin(from: number): number {
    const t = this.#text;
    const limit = Math.min(t.length, from + WHOLE);
    let depth = 0;
    for (let i = from; i < limit; i++) {
      const c = t.charCodeAt(i);
      if (c === 34) {
        for (i++; i < limit; i++) {
          const d = t.charCodeAt(i);
          if (d === 92) i++;
          else if (d === 34) break;
        }
      } else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (--depth === 0) return i;
      }
    }
    return -1;
  }

  /** The index just after the string starting at `from` (its closing quote found natively). */
  #stringEnd(from: number): number {
    const t = this.#text;
    let i = from + 1;
    for (;;) {
      const q = t.indexOf('"', i);
      if (q < 0) throw this.fail();
      let slashes = 0;
      while (t.charCodeAt(q - 1 - slashes) === 92) slashes++;
      if (slashes % 2 === 0) return q + 1;
      i = q + 1;
    }
  }

  *value(depth: number): Generator<void, unknown> {
    this.skipSpace();
    const t = this.#text;
    const c = t.charCodeAt(this.pos);
    let end: number;
    if (c === 123 || c === 91) {
      const close = this.#closeWithin(this.pos);
      if (close < 0) {
        if (depth >= MAX_DEPTH) throw new SyntaxError(`JSON: a container over ${WHOLE} characters nested deeper than ${MAX_DEPTH}`);
        return c === 123 ? yield* this.#object(depth) : yield* this.#array(depth);
      }
      end = close + 1;
    } else if (c === 34) {
      end = this.#stringEnd(this.pos);
    } else {
      SCALAR.lastIndex = this.pos;
      if (!SCALAR.test(t)) throw this.fail();
      end = SCALAR.lastIndex;
    }
    const v: unknown = JSON.parse(t.slice(this.pos, end));
    if (this.#advance(end)) yield;
    return v;
  }

  /** Steps past an opening `{` or `[`; true, past `close` too, when the container is empty. */
  #closesAtOnce(close: number): boolean {
    this.pos++;
    this.skipSpace();
    if (this.#text.charCodeAt(this.pos) !== close) return false;
    this.pos++;
    return true;
  }

  *#object(depth: number): Generator<void, Record<string, unknown>> {
    const t = this.#text;
    const out: Record<string, unknown> = {};
    if (this.#closesAtOnce(125)) return out;
    for (;;) {
      this.skipSpace();
      if (t.charCodeAt(this.pos) !== 34) throw this.fail();
      const keyEnd = this.#stringEnd(this.pos);
      const key = JSON.parse(t.slice(this.pos, keyEnd)) as string;
      this.pos = keyEnd;
      this.skipSpace();
      if (t.charCodeAt(this.pos) !== 58) throw this.fail();
      this.pos++;
      // defineProperty, not assignment: a key "__proto__" is an own property, as JSON.parse makes it.
      Object.defineProperty(out, key, { value: yield* this.value(depth + 1), enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      const next = t.charCodeAt(this.pos++);
      if (next === 125) return out;
      if (next !== 44) throw this.fail();
    }
  }

  *#array(depth: number): Generator<void, unknown[]> {
    const t = this.#text;
    const out: unknown[] = [];
    if (this.#closesAtOnce(93)) return out;
    for (;;) {
      out.push(yield* this.value(depth + 1));
      this.skipSpace();
      const next = t.charCodeAt(this.pos++);
      if (next === 93) return out;
      if (next !== 44) throw this.fail();
    }
  }
}
