import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger, type RunningServer, startServer } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config/config.ts';
import { hashApiKey } from '../../src/core/bouncers/api-key.ts';
import type { ManualClock } from '../../src/lib/clock.ts';
import { hashMachinePassword } from '../../src/lib/password.ts';
import { createBouncer } from '../../src/store/bouncers.ts';
import { createMachine } from '../../src/store/machines.ts';
import { freshDbUrl, type TestDialect } from './databases.ts';

/** The captured CrowdSec 1.4.6 exchange's time, agent User-Agent and credentials. */
export const T0 = Date.UTC(2026, 10, 24, 4, 18, 6);
export const UA = 'crowdsec/v1.4.6-6~deb12u1+b1-linux-debian';
export const PASSWORD = '0aAVQspBuconzuzhl95nfuLu4dC4Z2E6';
export const MACHINE = '3d1219c7c4c5404aaa1f6d2a48adfda4';
export const REG_TOKEN = 'x'.repeat(40);
export const BOUNCER_KEY = 'e8759c581418ed9f77e91dcb2d6082f8';

export interface WatcherApi {
  server: RunningServer;
  /** A second replica on the same database: tokens must work across them. */
  other: RunningServer;
  close(): Promise<void>;
}

function writeConfig(dbUrl: string, extra: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-watcher-'));
  const file = path.join(dir, 'vigil.yaml');
  fs.writeFileSync(file, `listen: 127.0.0.1:0\nmetrics_listen: 'off'\ndb: ${JSON.stringify(dbUrl)}\n${extra}`);
  return file;
}

/**
 * `vigil serve` on a fresh `dialect` database with auto-registration (REG_TOKEN, from 127.0.0.1) and
 * two replicas, holding the validated MACHINE, a machine `pending` and the bouncer `fw` (BOUNCER_KEY).
 */
export async function startWatcherApi(dialect: TestDialect, clock: ManualClock): Promise<WatcherApi> {
  const db = await freshDbUrl(dialect);
  let server: RunningServer | undefined;
  let other: RunningServer | undefined;
  const close = async () => {
    await other?.close();
    await server?.close();
    await db.cleanup();
  };
  try {
    const file = writeConfig(db.url, `api:\n  auto_registration:\n    enabled: true\n    token: ${REG_TOKEN}\n    allowed_ranges: [127.0.0.1/32]\n`);
    const config = loadConfig({ flags: { config: file }, env: {}, cwd: '/nonexistent' });
    server = await startServer(config, { clock, log: createLogger('silent') });
    other = await startServer(config, { clock, log: createLogger('silent') });
    await createMachine(server.store, { machineId: MACHINE, passwordHash: await hashMachinePassword(PASSWORD), now: T0, isValidated: true });
    await createMachine(server.store, { machineId: 'pending', passwordHash: await hashMachinePassword(PASSWORD), now: T0 });
    await createBouncer(server.store, { name: 'fw', apiKeyHash: hashApiKey(BOUNCER_KEY), now: T0 });
    return { server, other, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The headers of an agent's authenticated JSON request. */
export const jwtHeaders = (token: string) => ({ Authorization: `Bearer ${token}`, 'User-Agent': UA, 'Content-Type': 'application/json' });
