/**
 * The worker thread of sqlite-big-writer.ts: a big alert write (an import, 1,000 × 250 decisions)
 * runs its whole transaction here, BEGIN IMMEDIATE to COMMIT, on this thread's own connection to
 * the store file. COMMIT of such a write re-reads its WAL frames (walRewriteChecksums): 20–160 ms
 * of CPU in one synchronous call, which on the event loop held every bouncer's pull (issue 27 item 5).
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import type { NewAlertWithDecisions } from '../../core/model/records.ts';
import { insertAlerts } from './sqlite-alert-insert.ts';
import type { CrossedError, FromBigWriter, ToBigWriter } from './sqlite-big-write-messages.ts';

const port = parentPort!;
const { file, busyTimeoutMs, identity } = workerData as { file: string; busyTimeoutMs: number; identity: { dev: number; ino: number } };
const send = (m: FromBigWriter, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

let db: SqliteDatabase.Database | undefined;
/** The batch of the write being handed over, and its id. */
let job: { id: number; alerts: NewAlertWithDecisions[] } | undefined;

/** This thread's connection, opened on first use with sqlite.ts openSqlite's pragmas. */
function connection(): SqliteDatabase.Database {
  if (db) return db;
  const opened = new SqliteDatabase(file, { fileMustExist: true });
  // The file the event loop's connection has open, not one put in its place since (a restore, a new
  // store): a write there would go where the server's own connection never reads.
  const now = fs.statSync(file);
  if (now.dev !== identity.dev || now.ino !== identity.ino) {
    opened.close();
    throw Object.assign(new Error(`store file ${file} was replaced since vigil serve opened it; nothing written`), { code: 'SQLITE_READONLY' });
  }
  opened.pragma('journal_mode = WAL');
  opened.pragma('synchronous = NORMAL');
  opened.pragma(`busy_timeout = ${busyTimeoutMs}`);
  opened.pragma('foreign_keys = ON');
  // The server's background checkpointer (sqlite-checkpointer.ts) copies this write's frames.
  opened.pragma('wal_autocheckpoint = 0');
  db = opened;
  return opened;
}

function crossed(e: unknown): CrossedError {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, code: typeof code === 'string' ? code : undefined, vigil: err.name === 'VigilError' };
}

/** The write inserted and waiting for its COMMIT (the event loop builds its answer meanwhile). */
let inserted: { id: number; conn: SqliteDatabase.Database } | undefined;

function rollBack(conn: SqliteDatabase.Database | undefined): void {
  try {
    if (conn?.inTransaction) conn.exec('ROLLBACK');
  } catch {
    // the connection is gone with its transaction: nothing of it was committed
  }
}

function insert(id: number, alerts: readonly NewAlertWithDecisions[], pushed: Extract<ToBigWriter, { kind: 'end' }>['pushed'], queryOnly: boolean): void {
  let conn: SqliteDatabase.Database | undefined;
  try {
    conn = connection();
    // Refuses as the event loop's connection does (store.ts refuseWrites): a lost store takes no write.
    conn.pragma(`query_only = ${queryOnly ? 'ON' : 'OFF'}`);
    conn.exec('BEGIN IMMEDIATE');
    const decisionIds: number[] = [];
    const steps = insertAlerts(conn, alerts, pushed, (_d, decisionId) => decisionIds.push(decisionId));
    let step = steps.next();
    for (; !step.done; step = steps.next()) send({ id, kind: 'progress', done: step.value });
    const ids = Float64Array.from(decisionIds);
    inserted = { id, conn };
    send({ id, kind: 'inserted', alertIds: step.value.alertIds, decisionIds: ids, rev: step.value.rev }, [ids.buffer]);
  } catch (e) {
    rollBack(conn);
    send({ id, kind: 'failed', error: crossed(e) });
  }
}

function commit(id: number): void {
  const conn = inserted?.id === id ? inserted.conn : undefined;
  inserted = undefined;
  try {
    if (!conn?.inTransaction) throw new Error('commit asked for a write that is not waiting for it');
    send({ id, kind: 'committing' });
    conn.exec('COMMIT');
    send({ id, kind: 'committed' });
  } catch (e) {
    rollBack(conn);
    send({ id, kind: 'failed', error: crossed(e) });
  }
}

port.on('message', (m: ToBigWriter) => {
  if (m.kind === 'alerts') {
    if (job?.id !== m.id) job = { id: m.id, alerts: [] };
    for (const a of m.alerts) job.alerts.push(a);
  } else if (m.kind === 'end') {
    const alerts = job?.id === m.id ? job.alerts : [];
    job = undefined;
    insert(m.id, alerts, m.pushed, m.queryOnly);
  } else if (m.kind === 'commit') {
    commit(m.id);
  } else if (m.kind === 'drop') {
    if (job?.id === m.id) job = undefined;
    if (inserted?.id === m.id) {
      rollBack(inserted.conn);
      inserted = undefined;
    }
  }
});
