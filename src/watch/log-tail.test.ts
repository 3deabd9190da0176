import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useCleanups } from '../../test/support/cleanups.ts';
import { FileTail } from './log-tail.ts';

describe('FileTail (a real file another program writes)', () => {
  const cleanups = useCleanups();
  let file: string;
  beforeEach(() => {
    file = path.join(cleanups.tempDir('vigil-tail-'), 'crowdsec_api.log');
  });
  /** A tail on the test's log, closed after the test (before its folder is removed). */
  const tailOf = (options?: ConstructorParameters<typeof FileTail>[1]) => {
    const tail = new FileTail(file, options);
    cleanups.push(() => tail.close());
    return tail;
  };
  const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `line ${from + i}`);
  const append = (ls: string[]) => fs.appendFileSync(file, ls.map((l) => `${l}\n`).join(''));

  it('starts a bounded distance from the end of a large log, at a line boundary, then follows from its offset', async () => {
    append(lines(0, 20_000)); // ~200 kB
    const tail = tailOf({ startBytes: 1000 });
    const first = await tail.read();
    expect(first.lines.length).toBeGreaterThan(50);
    expect(first.lines.length).toBeLessThan(120);
    expect(first.lines.at(-1)).toBe('line 19999');
    expect(first.lines[0]).toMatch(/^line \d+$/);
    expect((await tail.read()).lines).toEqual([]);
    fs.appendFileSync(file, 'line 20000\nline 200');
    expect((await tail.read()).lines).toEqual(['line 20000']);
    fs.appendFileSync(file, '01\n');
    expect((await tail.read()).lines).toEqual(['line 20001']);
  });

  it('copytruncate: the file shrinks → read again from 0; truncated and grown past the old offset → the changed head says so', async () => {
    append(lines(0, 10));
    const tail = tailOf();
    expect((await tail.read()).lines).toHaveLength(10);
    fs.copyFileSync(file, `${file}.1`);
    fs.truncateSync(file, 0);
    append(['after 1', 'after 2']);
    expect((await tail.read()).lines).toEqual(['after 1', 'after 2']);
    // Truncated again, and more written than was there before the poll.
    fs.truncateSync(file, 0);
    append(lines(100, 20));
    const r = await tail.read();
    expect(r.lines).toEqual(lines(100, 20));
    expect(r.rotations).toBe(2);
  });

  it('rename/create: what was left in the old file is read first, then the new file from 0', async () => {
    append(lines(0, 3));
    const tail = tailOf();
    expect((await tail.read()).lines).toHaveLength(3);
    append(['last of old']);
    fs.renameSync(file, `${file}.1`);
    // The writer still has the old file open: its lines land in the renamed one, and are followed there.
    fs.appendFileSync(`${file}.1`, 'still old\n');
    expect(await tail.read()).toEqual({ lines: ['last of old', 'still old'], rotations: 0 });
    fs.appendFileSync(`${file}.1`, 'very last of old\n');
    append(['first of new']);
    const r = await tail.read();
    expect(r.lines).toEqual(['very last of old', 'first of new']);
    expect(r.rotations).toBe(1);
  });

  it('a missing file is an error for this read, not a crash; it is read from 0 once it appears', async () => {
    const tail = tailOf();
    expect((await tail.read()).error).toMatch(/crowdsec_api\.log: not found/);
    append(['hello']);
    expect(await tail.read()).toMatchObject({ lines: ['hello'] });
  });
});
