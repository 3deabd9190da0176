import { describe, expect, it } from 'vitest';
import { createLogger } from '../lib/logger.ts';
import { Topic } from '../lib/topic.ts';
import { Lifecycle } from './lifecycle.ts';

const silent = createLogger('silent');

describe('Lifecycle', () => {
  it('starts parts in order and stops them in reverse', async () => {
    const events: string[] = [];
    const life = new Lifecycle(silent);
    for (const name of ['store', 'sync', 'listener']) {
      await life.start(
        name,
        () => events.push(`start ${name}`),
        () => void events.push(`stop ${name}`),
      );
    }
    await life.stop();
    expect(events).toEqual(['start store', 'start sync', 'start listener', 'stop listener', 'stop sync', 'stop store']);
    // Idempotent: a second stop stops nothing again.
    await life.stop();
    expect(events).toHaveLength(6);
  });

  it('a part failing to start stops exactly the parts started before it, then rethrows', async () => {
    const events: string[] = [];
    const life = new Lifecycle(silent);
    const failure = life.build(async (l) => {
      await l.start(
        'store',
        () => events.push('start store'),
        () => void events.push('stop store'),
      );
      await l.start(
        'notifications',
        () => events.push('start notifications'),
        () => void events.push('stop notifications'),
      );
      await l.start(
        'listener',
        () => {
          throw new Error('listen 127.0.0.1:8080: address already in use');
        },
        () => void events.push('stop listener'),
      );
      await l.start(
        'canaries',
        () => events.push('start canaries'),
        () => void events.push('stop canaries'),
      );
    });
    await expect(failure).rejects.toThrow('address already in use');
    expect(events).toEqual(['start store', 'start notifications', 'stop notifications', 'stop store']);
  });

  it('a part that fails to stop does not keep the others open; the first failure is rethrown', async () => {
    const events: string[] = [];
    const life = new Lifecycle(silent);
    await life.start(
      'store',
      () => 1,
      () => void events.push('stop store'),
    );
    await life.start(
      'dispatcher',
      () => 2,
      () => {
        throw new Error('dispatcher stuck');
      },
    );
    await life.start(
      'listener',
      () => 3,
      () => void events.push('stop listener'),
    );
    await expect(life.stop()).rejects.toThrow('dispatcher stuck');
    expect(events).toEqual(['stop listener', 'stop store']);
  });
});

describe('Topic', () => {
  it('two subscribers both hear each value; one unsubscribing leaves the other (a second listener never replaces the first)', () => {
    const topic = new Topic<number>();
    const a: number[] = [];
    const b: number[] = [];
    const stopA = topic.subscribe((n) => a.push(n));
    topic.subscribe((n) => b.push(n));
    topic.publish(1);
    stopA();
    topic.publish(2);
    expect(a).toEqual([1]);
    expect(b).toEqual([1, 2]);
  });

  it('a subscriber that throws does not keep the value from the others; the error reaches the publisher', () => {
    const topic = new Topic<string>();
    const heard: string[] = [];
    topic.subscribe(() => {
      throw new Error('log failed');
    });
    topic.subscribe((s) => heard.push(s));
    expect(() => topic.publish('x')).toThrow('log failed');
    expect(heard).toEqual(['x']);
  });
});
