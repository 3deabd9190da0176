import { describe, expect, it } from 'vitest';
import { OnDemandWorker } from './on-demand-worker.ts';

// A worker that echoes each number doubled, and exits when sent -1.
const ECHO = new URL(
  `data:text/javascript,${encodeURIComponent("import { parentPort } from 'node:worker_threads'; parentPort.on('message', (n) => n === -1 ? process.exit(3) : parentPort.postMessage(n * 2));")}`,
);

describe('OnDemandWorker', () => {
  it('starts on first use, fails what waited when the worker ends, and starts a new one next time', async () => {
    const got: number[] = [];
    const ended: string[] = [];
    const thread = new OnDemandWorker<number, number>({ name: 'echo worker', file: ECHO, onMessage: (m) => got.push(m), onEnd: (e) => ended.push(e.message) });
    const first = thread.started();
    expect(thread.started()).toBe(first);
    first.ref();
    thread.post(first, 21, 'job');
    await new Promise<void>((r) => first.once('message', () => r()));
    expect(got).toEqual([42]);

    const exited = new Promise<void>((r) => first.once('exit', () => r()));
    thread.post(first, -1, 'job');
    await exited;
    expect(ended).toEqual(['echo worker: exited (3)']);
    expect(thread.isCurrent(first)).toBe(false);
    expect(() => thread.post(first, 1, 'job')).toThrow('echo worker: ended while the job was in it');

    const second = thread.started();
    expect(second).not.toBe(first);
    await thread.close();
    expect(thread.isCurrent(second)).toBe(false);
  });
});
