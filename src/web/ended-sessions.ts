import crypto from 'node:crypto';
import type { Store } from '../store/store.ts';
import { isSessionEnded, recordEndedSession } from '../store/ended-sessions.ts';
import type { Session } from './session.ts';

/** How many ended sessions one process remembers without asking the store (the oldest go first). */
const CACHED = 10_000;

/**
 * Sessions ended by a logout: in the store, so a replayed cookie is refused after a restart and by
 * every replica; and in memory, so a cookie known to be ended costs no query. A session not known
 * here is checked in the store on every request (an indexed read, beside the credential's), because
 * another replica may have ended it a moment ago.
 */
export class EndedSessions {
  readonly #store: Store;
  readonly #known = new Map<string, number>();

  constructor(store: Store) {
    this.#store = store;
  }

  async has(session: Session): Promise<boolean> {
    if (this.#known.has(session.id)) return true;
    if (!(await isSessionEnded(this.#store, idHash(session.id)))) return false;
    this.#remember(session);
    return true;
  }

  async end(session: Session, now: number): Promise<void> {
    await recordEndedSession(this.#store, idHash(session.id), session.expiresAt, now);
    this.#remember(session);
    for (const [id, expiresAt] of this.#known) if (expiresAt <= now) this.#known.delete(id);
  }

  #remember(session: Session): void {
    this.#known.set(session.id, session.expiresAt);
    if (this.#known.size > CACHED) this.#known.delete(this.#known.keys().next().value!);
  }
}

function idHash(id: string): string {
  return crypto.createHash('sha256').update(id).digest('hex');
}
