import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NewAlertWithDecisions } from '../../core/model/records.ts';
import { openDatabase, parseStoreUrl } from '../database.ts';
import { AUTOCHECKPOINT_PAGES, AUTOCHECKPOINT_PAUSE_MS, SqliteAlertWriter } from './sqlite-alert-writes.ts';
import { newAlert } from '../../../test/support/alert-builders.ts';

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** One import-sized write: 100 alerts × 250 decisions, far over the connection's 1,000-page autocheckpoint. */
function bigBatch(): NewAlertWithDecisions[] {
  return Array.from({ length: 100 }, (_, n) => ({
    alert: newAlert(T0, { scenario: 'import', message: 'import', machineId: 'vigil', sourceValue: `10.0.0.${n}`, sourceIp: `10.0.0.${n}`, leakspeed: '0' }),
    decisions: Array.from({ length: 250 }, (_, j) => ({
      origin: 'cscli',
      type: 'ban',
      scope: 'Ip',
      value: `172.16.${n}.${j}`,
      scenario: `import ${'x'.repeat(200)}`,
      createdAt: T0,
      until: T0 + 3_600_000,
      simulated: false,
    })),
  }));
}

async function openWriter(checkpointsInBackground: boolean) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bigcommit-'));
  dirs.push(dir);
  const file = path.join(dir, 'vigil.db');
  const opened = await openDatabase(parseStoreUrl(`sqlite:${file}`));
  const sqlite = opened.sqlite!;
  // Everything so far (the schema) in the file itself, so what follows is only the big write.
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  const writer = new SqliteAlertWriter(opened.db, sqlite, { checkpointsInBackground });
  return { file, sqlite, writer, close: async () => (await writer.close(), await opened.db.destroy()) };
}

type OpenWriter = Awaited<ReturnType<typeof openWriter>>;

/** Opens a writer, makes one big write and hands `check` how much that COMMIT grew the database file. */
async function afterBigWrite(checkpointsInBackground: boolean, check: (w: OpenWriter, fileGrowth: number) => Promise<void> | void): Promise<void> {
  const w = await openWriter(checkpointsInBackground);
  try {
    const before = fs.statSync(w.file).size;
    await w.writer.write(bigBatch(), () => {});
    await check(w, fs.statSync(w.file).size - before);
  } finally {
    await w.close();
  }
}

describe('SQLite big writes and the checkpoint (issue 27 item 5)', () => {
  it('with a background checkpointer, the COMMIT of a big write copies nothing into the database file on the event loop', () =>
    afterBigWrite(true, async (w, fileGrowth) => {
      // No worker runs in this test, so only the connection's own autocheckpoint could have grown the file.
      expect(fileGrowth).toBe(0);
      expect(w.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      expect(w.writer.autocheckpointPaused).toBe(true);
      // It comes back as the WAL's bound.
      await vi.waitFor(() => expect(w.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(AUTOCHECKPOINT_PAGES), {
        timeout: AUTOCHECKPOINT_PAUSE_MS + 3000,
        interval: 100,
      });
      expect(w.writer.autocheckpointPaused).toBe(false);
    }));

  it('without one (the CLI), the COMMIT checkpoints as SQLite always does', () =>
    afterBigWrite(false, (w, fileGrowth) => {
      expect(fileGrowth).toBeGreaterThan(0);
      expect(w.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(AUTOCHECKPOINT_PAGES);
    }));
});
