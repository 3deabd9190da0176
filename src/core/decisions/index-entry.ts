/** One decision as the index holds it, and the network it covers: shared by the index and its tables. */
import type { Decision } from '../model/records.ts';
import type { IpFamily, IpWords } from '../../lib/ip.ts';

export interface Net {
  readonly family: IpFamily;
  readonly prefixLength: number;
  readonly first: IpWords;
  readonly last: IpWords;
}

export interface Entry {
  readonly id: number;
  decision: Decision;
  /** Mirrors decision.until; read on the hot path. */
  until: number;
  /** Mirrors decision.type, so ranking a match does not touch the decision record. */
  type: string;
  readonly value: string;
  /** Null when the decision takes no part in IP matching. */
  readonly net: Net | null;
  /** Set once detached; lazily swept out of the ordered arrays. */
  removed: boolean;
}
