import type { Store, BouncerActivity, NewRefusedRequest } from '../store/store.ts';
import type { Bouncer } from '../store/types.ts';

/**
 * Buffers what authenticated requests tell about each bouncer (last pull, last request, IP,
 * type, version) and writes it in one transaction per period. 1,000 pulls/s would otherwise be
 * 1,000 write transactions/s. A crash loses at most one period of last-pull times: see README.
 */
export class ActivityRecorder {
  #store: Store;
  #pending = new Map<number, BouncerActivity>();
  /** Latest values known to this process (written or pending), so unchanged fields are not rewritten. */
  #known = new Map<number, { ip: string; type: string; version: string; lastPullAt: number | null; lastPullRev: number | null }>();
  #refused: NewRefusedRequest[] = [];
  #refusedDropped = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  onError: (e: unknown) => void = () => {};
  onIpChange: (bouncer: Bouncer, oldIp: string, newIp: string) => void = () => {};

  constructor(store: Store) {
    this.#store = store;
  }

  start(everyMs: number): void {
    this.#timer = setInterval(() => {
      this.flush().catch((e) => this.onError(e));
    }, everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  #knownFor(b: Bouncer) {
    let k = this.#known.get(b.id);
    if (!k) {
      k = { ip: b.ipAddress, type: b.type, version: b.version, lastPullAt: b.lastPullAt, lastPullRev: b.lastPullRev };
      this.#known.set(b.id, k);
    } else {
      // Another replica may have moved them on; the store's record is as good as ours.
      if (b.lastPullAt !== null && (k.lastPullAt === null || b.lastPullAt > k.lastPullAt)) k.lastPullAt = b.lastPullAt;
      if (b.lastPullRev !== null && (k.lastPullRev === null || b.lastPullRev > k.lastPullRev)) k.lastPullRev = b.lastPullRev;
    }
    return k;
  }

  /** The stream cursor of a bouncer: what it last pulled, by time and by decisions revision. */
  cursor(b: Bouncer): { lastPullAt: number | null; lastPullRev: number | null } {
    const k = this.#knownFor(b);
    return { lastPullAt: k.lastPullAt, lastPullRev: k.lastPullRev };
  }

  /** Records an authenticated request; `pull` when it counts as a decisions pull. */
  request(b: Bouncer, at: number, peerIp: string, ua: { type: string; version: string }, pull?: { rev: number }): void {
    const k = this.#knownFor(b);
    let p = this.#pending.get(b.id);
    if (!p) this.#pending.set(b.id, (p = { id: b.id }));
    p.lastRequestAt = at;
    if (peerIp !== k.ip) {
      if (k.ip !== '') this.onIpChange(b, k.ip, peerIp);
      k.ip = peerIp;
      p.ipAddress = peerIp;
    }
    if (ua.type !== k.type || ua.version !== k.version) {
      k.type = ua.type;
      k.version = ua.version;
      p.type = ua.type;
      p.version = ua.version;
    }
    if (pull) {
      k.lastPullAt = at;
      k.lastPullRev = pull.rev;
      p.lastPullAt = at;
      p.lastPullRev = pull.rev;
    }
  }

  refused(r: NewRefusedRequest): void {
    // A flood of bad keys must not become a flood of writes: keep the first 1,000 per period.
    if (this.#refused.length >= 1000) {
      this.#refusedDropped++;
      return;
    }
    this.#refused.push(r);
  }

  /** Forget a bouncer (deleted): nothing pending for it is written. */
  forget(id: number): void {
    this.#pending.delete(id);
    this.#known.delete(id);
  }

  flush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    const batch = [...this.#pending.values()];
    const refused = this.#refused;
    this.#pending = new Map();
    this.#refused = [];
    this.#refusedDropped = 0;
    try {
      await this.#store.applyBouncerActivity(batch, Date.now());
      await this.#store.recordRefused(refused);
    } catch (e) {
      // Put it back so the next period retries; newer values win over the failed ones.
      for (const a of batch) {
        const cur = this.#pending.get(a.id);
        this.#pending.set(a.id, cur ? { ...a, ...stripUndefined(cur) } : a);
      }
      this.#refused = refused.concat(this.#refused).slice(0, 1000);
      throw e;
    }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
