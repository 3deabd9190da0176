import { describe, expect, it } from 'vitest';
import { reloadQueue } from './reload-queue.ts';

describe('reloadQueue', () => {
  it('holds reloads asked while starting and runs one of them once started', async () => {
    const ran: string[] = [];
    const q = reloadQueue(async (target: string) => {
      ran.push(target);
    });
    q.ask();
    q.ask();
    await q.settled();
    expect(ran).toEqual([]);
    q.started('server');
    await q.settled();
    expect(ran).toEqual(['server']);
  });

  it('runs reloads one at a time, in the order asked', async () => {
    const events: string[] = [];
    let release!: () => void;
    const firstHeld = new Promise<void>((resolve) => {
      release = resolve;
    });
    let n = 0;
    const q = reloadQueue(async () => {
      const mine = ++n;
      events.push(`start ${mine}`);
      if (mine === 1) await firstHeld;
      events.push(`end ${mine}`);
    });
    q.started('server');
    q.ask();
    q.ask();
    await Promise.resolve();
    release();
    await q.settled();
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });
});
