import { describe, expect, it } from 'vitest';
import { ConnectionTable } from './connection-table.ts';

const admitted = (t: ConnectionTable<string>, s: string, peer: string, now = 0) => {
  const a = t.admit(s, peer, now);
  if (!a.admitted) throw new Error(`${s} refused: ${a.reason}`);
  return a.shed.map((v) => `${v.socket}:${v.state}`);
};

describe('the connection table', () => {
  it('a new connection from a capped address takes the place of its oldest waiting one', () => {
    const t = new ConnectionTable<string>(1000, 3);
    for (const s of ['a1', 'a2', 'a3']) expect(admitted(t, s, 'A')).toEqual([]);
    expect(admitted(t, 'a4', 'A')).toEqual(['a1:waiting']);
    expect(t.open).toBe(3);
    expect(t.unauthenticated('A')).toBe(3);
    // Another address is not touched.
    expect(admitted(t, 'b1', 'B')).toEqual([]);
  });

  it('authenticated connections are not counted against their address, and never make way', () => {
    const t = new ConnectionTable<string>(1000, 2);
    admitted(t, 'bouncer', 'A');
    t.requestStarted('bouncer');
    t.requestFinished('bouncer', true);
    expect(t.state('bouncer')).toBe('authenticated');
    expect(t.unauthenticated('A')).toBe(0);
    admitted(t, 'x1', 'A');
    admitted(t, 'x2', 'A');
    expect(admitted(t, 'x3', 'A')).toEqual(['x1:waiting']);
    expect(t.state('bouncer')).toBe('authenticated');
    expect(t.open).toBe(3);
  });

  it('busy connections never make way; with none idle the newcomer is refused and the reason named', () => {
    const t = new ConnectionTable<string>(1000, 2);
    admitted(t, 'u1', 'A');
    admitted(t, 'u2', 'A');
    t.requestStarted('u1');
    t.requestStarted('u2');
    expect(t.admit('u3', 'A', 0)).toEqual({ admitted: false, reason: 'peer_cap' });
    // Answered, not authenticated: idle again, and the least recently active makes way first.
    t.requestFinished('u2', false);
    t.requestFinished('u1', false);
    expect(admitted(t, 'u4', 'A')).toEqual(['u2:anonymous']);
  });

  it('a full table sheds the oldest idle unauthenticated connection of any address, else refuses', () => {
    const t = new ConnectionTable<string>(4, 100);
    admitted(t, 'b', 'B');
    t.requestStarted('b');
    t.requestFinished('b', true);
    for (const s of ['x1', 'x2', 'x3']) admitted(t, s, `X${s}`);
    expect(admitted(t, 'new', 'B')).toEqual(['x1:waiting']);
    for (const s of ['x2', 'x3', 'new']) {
      t.requestStarted(s);
      t.requestFinished(s, true);
    }
    expect(t.admit('late', 'C', 0)).toEqual({ admitted: false, reason: 'listener_full' });
  });

  it('past three quarters full, an address holding its fair share (1/16) gives up its own oldest', () => {
    const t = new ConnectionTable<string>(160, 1000);
    for (let i = 0; i < 110; i++) admitted(t, `o${i}`, `O${i}`);
    for (let i = 0; i < 10; i++) admitted(t, `g${i}`, 'G');
    expect(admitted(t, 'g10', 'G')).toEqual(['g0:waiting']);
    // A quiet address is admitted as is.
    expect(admitted(t, 'q', 'Q')).toEqual([]);
  });

  it('closing is idempotent, and a shed socket closing later changes nothing', () => {
    const t = new ConnectionTable<string>(1000, 1);
    admitted(t, 'a', 'A');
    expect(admitted(t, 'b', 'A')).toEqual(['a:waiting']);
    t.closed('a');
    t.closed('a');
    expect(t.open).toBe(1);
    expect(t.unauthenticated('A')).toBe(1);
    t.closed('b');
    expect(t.open).toBe(0);
    expect(t.unauthenticated('A')).toBe(0);
  });

  it('lists connections still waiting for their first request past the timeout, oldest first', () => {
    const t = new ConnectionTable<string>(1000, 100);
    admitted(t, 'early', 'A', 1_000);
    admitted(t, 'asked', 'A', 1_500);
    admitted(t, 'late', 'A', 2_500);
    t.requestStarted('asked');
    expect(t.expiredWaiting(2_999, 2_000)).toEqual([]);
    expect(t.expiredWaiting(3_000, 2_000)).toEqual(['early']);
    expect(t.expiredWaiting(4_600, 2_000)).toEqual(['early', 'late']);
  });
});
