import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crowdsecAvailable, startCrowdsec, type CrowdsecInstance } from './support/crowdsec-instance.ts';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { startServer, createLogger } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { Store } from '../src/store/store.ts';
import { cliRunner, runVigil } from './support/cli.ts';
import { listBouncers } from '../src/store/bouncers.ts';
import { activeDecisions } from '../src/store/decisions.ts';

/**
 * `vigil import crowdsec` from a REAL CrowdSec 1.4.6 database: afterwards `vigil serve` answers the
 * bouncer's own key with CrowdSec's decision and logs the agent in with its own credentials file:
 * the stack switches without touching a bouncer or an agent.
 */
const cs = crowdsecAvailable();
const skip = !cs.available && !process.env.CI;

describe.skipIf(skip)(`vigil import crowdsec from the real CrowdSec 1.4.6${skip ? ` (skipped: ${cs.reason})` : ''}`, () => {
  let crowdsec: CrowdsecInstance;
  let key: string;
  let credentials: { login: string; password: string };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-import-'));

  beforeAll(async () => {
    crowdsec = await startCrowdsec({ workDir: work });
    key = await crowdsec.addBouncer('nginx-edge');
    await crowdsec.addBouncer('never-used');
    await crowdsec.addDecision({ ip: '192.0.2.9', duration: '2h', reason: 'imported-ban' });
    await crowdsec.addDecision({ range: '198.51.100.0/24', duration: '1h', reason: 'imported-range', type: 'captcha' });
    // The bouncer pulls once, so CrowdSec records its address, type and version.
    const r = await fetch(`${crowdsec.url}v1/decisions?ip=192.0.2.9`, { headers: { 'X-Api-Key': key, 'User-Agent': 'crowdsec-nginx-bouncer/v1.0.8' } });
    expect(r.status).toBe(200);
    credentials = YAML.parse(fs.readFileSync(path.join(crowdsec.dir, 'local_api_credentials.yaml'), 'utf8'));
    await crowdsec.stop();
  }, 90_000);
  afterAll(async () => {
    await crowdsec?.destroy();
    fs.rmSync(work, { recursive: true, force: true });
  });

  for (const dialect of DIALECTS) {
    it(`${dialect}: keys, passwords and active decisions move over; a second run adds nothing; --dry-run writes nothing`, async () => {
      const db = await freshDbUrl(dialect);
      const vigil = cliRunner(() => ({ env: { VIGIL_DB: db.url }, cwd: work }));
      const from = `sqlite:${crowdsec.dbPath}`;
      try {
        await (await Store.open(db.url)).close();
        const dry = await vigil('import', 'crowdsec', '--crowdsec-db', from, '--dry-run', '-o', 'json');
        expect(dry.code, dry.err).toBe(0);
        const planned = JSON.parse(dry.out);
        expect([planned.bouncers.sort(), planned.machines, planned.decisions]).toEqual([['never-used', 'nginx-edge'], ['vigil-test-machine'], 2]);
        // CrowdSec 1.4.6 has no allowlist tables: none to copy, and their absence is no error.
        expect([planned.allowlists, planned.allowlistValues]).toEqual([[], 0]);
        const untouched = await Store.open(db.url);
        expect((await listBouncers(untouched)).length).toBe(0);
        await untouched.close();

        const run = await vigil('import', 'crowdsec', '--crowdsec-db', from);
        expect(run.code, run.err).toBe(0);
        expect(run.err).toContain('imported from sqlite:');
        expect(run.err).toContain('2 bouncer(s) with their keys, 1 machine(s) with their passwords, 2 active decision(s)');

        const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: 'off', adminListen: 'off' }, env: {}, cwd: work });
        const server = await startServer(config, { log: createLogger('silent') });
        try {
          // The bouncer's own key, unchanged.
          const live = await fetch(`${server.url}/v1/decisions?ip=192.0.2.9`, { headers: { 'X-Api-Key': key, 'User-Agent': 'crowdsec-nginx-bouncer/v1.0.8' } });
          expect(live.status).toBe(200);
          const found = (await live.json()) as Array<{ value: string; type: string; scenario: string; origin: string }>;
          expect(found.map((d) => [d.value, d.type, d.scenario, d.origin])).toEqual([['192.0.2.9', 'ban', 'imported-ban', 'cscli']]);
          const inRange = (await (await fetch(`${server.url}/v1/decisions?ip=198.51.100.7`, { headers: { 'X-Api-Key': key } })).json()) as Array<{
            type: string;
          }>;
          expect(inRange.map((d) => d.type)).toEqual(['captcha']);
          // A wrong key is still refused.
          expect((await fetch(`${server.url}/v1/decisions?ip=192.0.2.9`, { headers: { 'X-Api-Key': `${key}x` } })).status).toBe(403);
          // The agent's credentials file, unchanged.
          const login = await fetch(`${server.url}/v1/watchers/login`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'User-Agent': 'crowdsec/v1.4.6-6~deb12u1+b1-linux-debian' },
            body: JSON.stringify({ machine_id: credentials.login, password: credentials.password, scenarios: [] }),
          });
          expect(login.status).toBe(200);
          const wrong = await fetch(`${server.url}/v1/watchers/login`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'User-Agent': 'crowdsec/v1.4.6' },
            body: JSON.stringify({ machine_id: credentials.login, password: `${credentials.password}x`, scenarios: [] }),
          });
          expect(wrong.status).toBe(401);
          const rows = await listBouncers(server.store);
          const edge = rows.find((b) => b.name === 'nginx-edge');
          expect([edge?.ipAddress, edge?.type, edge?.version]).toEqual(['127.0.0.1', 'crowdsec-nginx-bouncer', 'v1.0.8']);
        } finally {
          await server.close();
        }

        const again = await vigil('import', 'crowdsec', '--crowdsec-db', from);
        expect(again.code, again.err).toBe(0);
        expect(again.err).toContain('0 bouncer(s) with their keys, 0 machine(s) with their passwords, 0 active decision(s)');
        expect(again.err).toContain("bouncer nginx-edge: already in Vigil's store, kept as it is");
        const after = await Store.open(db.url);
        expect((await activeDecisions(after, Date.now())).length).toBe(2);
        await after.close();
      } finally {
        await db.cleanup();
      }
    }, 60_000);
  }

  it('refuses a CrowdSec database that does not exist, naming it, and writes nothing', async () => {
    const db = await freshDbUrl('sqlite');
    try {
      const r = await runVigil({ env: { VIGIL_DB: db.url }, cwd: work }, ['import', 'crowdsec', '--crowdsec-db', `sqlite:${work}/nope.db`]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`sqlite:${work}/nope.db: cannot open`);
    } finally {
      await db.cleanup();
    }
  });
});
