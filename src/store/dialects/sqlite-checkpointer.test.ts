import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../core/bouncers/api-key.ts';
import { Store } from '../store.ts';
import { createBouncer } from '../bouncers.ts';

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Bouncers in the database file itself, without its WAL: what a checkpoint has copied there. */
function bouncersInMainFile(file: string): number {
  const copy = path.join(path.dirname(file), `copy-${Date.now()}-${Math.random()}.db`);
  fs.copyFileSync(file, copy);
  const db = new SqliteDatabase(copy, { readonly: true });
  try {
    // Before any checkpoint even the schema is only in the WAL.
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'bouncers'").get() !== undefined;
    return hasTable ? (db.prepare('SELECT count(*) AS n FROM bouncers').get() as { n: number }).n : 0;
  } finally {
    db.close();
    fs.rmSync(copy, { force: true });
  }
}

async function storeWithBouncers(checkpointInBackground: boolean): Promise<{ store: Store; file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ckpt-'));
  dirs.push(dir);
  const file = path.join(dir, 'vigil.db');
  const warnings: string[] = [];
  const store = await Store.open(`sqlite:${file}`, { checkpointInBackground, onWarning: (m) => warnings.push(m) });
  // A few pages: far below the connection's own autocheckpoint (1,000 pages), so only a checkpoint from elsewhere copies them.
  for (let i = 0; i < 20; i++) await createBouncer(store, { name: `b${i}`, apiKeyHash: hashApiKey(`k${i}`), now: T0 });
  expect(warnings).toEqual([]);
  return { store, file };
}

describe('background WAL checkpoints (SQLite)', () => {
  it('copies committed writes into the database file from a worker thread, and stops with the store', async () => {
    const { store, file } = await storeWithBouncers(true);
    const deadline = Date.now() + 10_000;
    let n = bouncersInMainFile(file);
    while (n < 20 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      n = bouncersInMainFile(file);
    }
    expect(n).toBe(20);
    await store.close();
  });

  it('leaves them in the WAL without it (what the test above would see if nothing checkpointed)', async () => {
    const { store, file } = await storeWithBouncers(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(bouncersInMainFile(file)).toBeLessThan(20);
    await store.close();
  });
});
