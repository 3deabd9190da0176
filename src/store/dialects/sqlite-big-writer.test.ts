import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewAlertWithDecisions } from '../../core/model/records.ts';
import { openDatabase, parseStoreUrl } from '../database.ts';
import { addAlerts } from '../decisions.ts';
import { createMachine } from '../machines.ts';
import { Store } from '../store.ts';
import { SqliteAlertWriter } from './sqlite-alert-writes.ts';
import { newAlert } from '../../../test/support/alert-builders.ts';

// Big SQLite alert writes on the worker thread's connection (vigil serve; issue 27 item 5).

const T0 = Date.UTC(2026, 11, 8, 3, 0, 0);
const dirs: string[] = [];
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function storeFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bigwriter-'));
  dirs.push(dir);
  return path.join(dir, 'vigil.db');
}

/** `alerts` alerts × `each` decisions, events included, as an import or a big push brings them. */
function bigBatch(alerts: number, each: number): NewAlertWithDecisions[] {
  return Array.from({ length: alerts }, (_, n) => ({
    alert: newAlert(T0, {
      scenario: `crowdsecurity/scan-${n % 7}`,
      message: `push ${n}`,
      machineId: 'agent-1',
      sourceValue: `10.0.${n >> 8}.${n & 255}`,
      sourceIp: `10.0.${n >> 8}.${n & 255}`,
      extra: n % 10 === 0 ? JSON.stringify({ events: [{ meta: 'x'.repeat(3000) }] }) : undefined,
    }),
    decisions: Array.from({ length: each }, (_, j) => ({
      origin: n % 2 === 0 ? 'cscli' : 'crowdsec',
      type: j % 5 === 0 ? 'captcha' : 'ban',
      scope: 'Ip',
      value: `172.${16 + (n >> 8)}.${n & 255}.${j}`,
      scenario: `crowdsecurity/scan-${n % 7}`,
      createdAt: T0 + n,
      until: T0 + 3_600_000 + j,
      simulated: j % 11 === 0,
    })),
  }));
}

/** A store as vigil serve opens it (background checkpointer: big writes go to the worker) or as the CLI does. */
async function openStore(file: string, inServe: boolean): Promise<Store> {
  const store = await Store.open(`sqlite:${file}`, { checkpointInBackground: inServe });
  closers.push(() => store.close());
  await createMachine(store, { machineId: 'agent-1', passwordHash: 'x', now: T0 });
  return store;
}

/** Everything a write touches, read on a connection of its own. */
function rowsOf(file: string) {
  const db = new SqliteDatabase(file, { readonly: true });
  try {
    return {
      alerts: db.prepare('SELECT * FROM alerts ORDER BY id').all(),
      decisions: db.prepare('SELECT * FROM decisions ORDER BY id').all(),
      rev: db.prepare("SELECT value FROM vigil_counters WHERE name = 'decisions_rev'").get(),
      lastPush: db.prepare("SELECT last_push_at FROM machines WHERE machine_id = 'agent-1'").get(),
    };
  } finally {
    db.close();
  }
}

/** A writer as vigil serve has it, on a file of its own. */
async function openWriter() {
  const file = storeFile();
  const opened = await openDatabase(parseStoreUrl(`sqlite:${file}`));
  const writer = new SqliteAlertWriter(opened.db, opened.sqlite!, { checkpointsInBackground: true });
  closers.push(async () => (await writer.close(), await opened.db.destroy()));
  return { file, sqlite: opened.sqlite!, writer };
}

const count = (file: string, table: string): number => {
  const db = new SqliteDatabase(file, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('SQLite big writes on the worker thread (issue 27 item 5)', () => {
  it('stores exactly what the event-loop path stores, and answers the same', async () => {
    const batch = bigBatch(100, 120);
    const pushed = { machineId: 'agent-1', at: T0 + 5000 };
    const answers = [];
    const progress: number[][] = [];
    const files: string[] = [];
    for (const inServe of [false, true]) {
      const file = storeFile();
      files.push(file);
      const store = await openStore(file, inServe);
      const seen: number[] = [];
      answers.push(await addAlerts(store, batch, (n) => seen.push(n), pushed));
      // A second write takes the next revision on the same worker.
      answers.push(await addAlerts(store, bigBatch(3, 400), undefined, pushed));
      progress.push(seen);
    }
    const [cli, serve] = files.map(rowsOf);
    expect(cli!.decisions).toHaveLength(12_000 + 1_200);
    expect(serve).toEqual(cli);
    expect(answers[2]).toEqual(answers[0]);
    expect(answers[3]).toEqual(answers[1]);
    expect(answers[2]!.rev).toBe(1);
    // Progress counts up to every decision on both paths.
    for (const seen of progress) {
      expect(seen.at(-1)).toBe(12_000);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
    }
  });

  it('a write failing in its middle stores nothing, keeps its SQLite code, and the next write goes through', async () => {
    const w = await openWriter();
    const batch = bigBatch(40, 100);
    // NOT NULL: SQLite refuses the 3,950th decision, long after the first ones were inserted.
    (batch[39]!.decisions[50] as { value: unknown }).value = null;
    const failed = await w.writer.write(batch, () => {}).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as { code?: string }).code).toBe('SQLITE_CONSTRAINT_NOTNULL');
    expect(count(w.file, 'alerts')).toBe(0);
    expect(count(w.file, 'decisions')).toBe(0);
    expect(rowsOf(w.file).rev).toEqual({ value: 0 });
    const written = await w.writer.write(bigBatch(10, 200), () => {});
    expect(written.rev).toBe(1);
    expect(count(w.file, 'decisions')).toBe(2000);
  });

  it('a lost store (writes refused) refuses a big write in the worker too: SQLITE_READONLY (503), nothing written', async () => {
    const file = storeFile();
    const store = await openStore(file, true);
    await addAlerts(store, bigBatch(2, 1000), () => {});
    store.refuseWrites();
    const refused = await addAlerts(store, bigBatch(20, 100), () => {}).catch((e: unknown) => e);
    expect((refused as { code?: string }).code).toBe('SQLITE_READONLY');
    expect(count(file, 'decisions')).toBe(2000);
    expect(rowsOf(file).rev).toEqual({ value: 1 });
  });

  it('a worker that dies fails the write in it, stores nothing of it, and the next write starts a new worker', async () => {
    const w = await openWriter();
    let crashed: Promise<void> | undefined;
    const failed = await w.writer
      .write(bigBatch(200, 250), () => {
        crashed ??= w.writer.crashBigWriterForTest();
      })
      .catch((e: unknown) => e);
    await crashed;
    expect(String(failed)).toMatch(/big-write worker/);
    expect(count(w.file, 'decisions')).toBe(0);
    const written = await w.writer.write(bigBatch(5, 300), () => {});
    expect(written.decisions).toHaveLength(1500);
    expect(count(w.file, 'decisions')).toBe(1500);
  });

  it('the event loop keeps turning while a 250k-decision write commits, and its connection never holds the transaction', async () => {
    const w = await openWriter();
    let turns = 0;
    let spinning = true;
    let mainInTransaction = false;
    const spin = () => {
      turns++;
      if (w.sqlite.inTransaction) mainInTransaction = true;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    let turnsAtCommit = -1;
    let turnsAtCommitted = -1;
    w.writer.bigWriteHooks = { committing: () => (turnsAtCommit = turns), committed: () => (turnsAtCommitted = turns) };
    let turnsAtAnswer = -1;
    try {
      const written = await w.writer.write(bigBatch(1000, 250), () => {});
      turnsAtAnswer = turns;
      expect(written.decisions).toHaveLength(250_000);
    } finally {
      spinning = false;
    }
    // The answer is built before the COMMIT and handed back in the turn the COMMIT is heard of: a
    // periodic refresh of the decision index seeing the new revision first would read it all back.
    expect(turnsAtAnswer).toBe(turnsAtCommitted);
    expect(turnsAtCommit).toBeGreaterThan(0);
    // On the event loop the COMMIT was one synchronous call: no turn between its start and its end.
    // Here the loop turned while the worker committed (tens of ms for 250k decisions).
    expect(turnsAtCommitted - turnsAtCommit).toBeGreaterThan(0);
    expect(mainInTransaction).toBe(false);
    expect(count(w.file, 'decisions')).toBe(250_000);
  }, 120_000);

  it('a new worker connects only to the file the store opened: one put in its place is left untouched', async () => {
    const w = await openWriter();
    await w.writer.write(bigBatch(2, 1000), () => {});
    await w.writer.crashBigWriterForTest();
    // Another store moved into the path (a restore from backup, say) while this one stays open.
    const other = storeFile();
    const otherStore = await openStore(other, false);
    await otherStore.close();
    closers.pop();
    fs.renameSync(w.file, `${w.file}.old`);
    fs.copyFileSync(other, w.file);
    const before = rowsOf(w.file);
    const refused = await w.writer.write(bigBatch(20, 100), () => {}).catch((e: unknown) => e);
    expect((refused as { code?: string }).code).toBe('SQLITE_READONLY');
    expect(String(refused)).toMatch(/replaced/);
    expect(rowsOf(w.file)).toEqual(before);
  });
});
