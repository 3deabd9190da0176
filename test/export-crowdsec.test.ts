import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crowdsecAvailable, startCrowdsec, type CrowdsecDb, type CrowdsecInstance } from './support/crowdsec-instance.ts';
import { mariadbAvailable, startMariadb } from './support/mariadb-instance.ts';
import { crowdsecBouncersAvailable } from './support/crowdsec-bouncers.ts';
import { startCustomBouncer, type CustomBouncerEvent, type CustomBouncerHandle } from './support/custom-bouncer.ts';
import { DIALECTS, freshDbUrl, type TestDialect } from './support/databases.ts';
import { startVigilServe, type VigilServe } from './support/vigil-serve.ts';
import { until } from './support/wait.ts';
import { runVigil } from './support/cli.ts';

/**
 * The way back, as an operator walks it: a REAL CrowdSec 1.4.6 stack (its Local API and the real
 * crowdsec-custom-bouncer) switches to `vigil serve` on the same address (`vigil import crowdsec`),
 * decisions are made and deleted on Vigil, Vigil stops, `vigil export crowdsec` writes CrowdSec's
 * database, CrowdSec's Local API starts again, and a real bouncer holds exactly what Vigil held:
 * nothing made on Vigil lost, nothing deleted on Vigil back. CrowdSec's database is the Vigil
 * store's dialect (SQLite file, or a PostgreSQL database of its own).
 */
const cs = crowdsecAvailable();
const bouncers = crowdsecBouncersAvailable();
const maria = mariadbAvailable();
const skip = (!cs.available || !bouncers.custom) && !process.env.CI;

type Held = Map<string, { type: string; origin: string; scenario: string }>;

/** What a custom bouncer holds after replaying its add/del calls in order. */
function held(events: CustomBouncerEvent[]): Held {
  const out: Held = new Map();
  for (const e of events) {
    if (e.action === 'add') out.set(e.value, { type: String(e.decision.type), origin: String(e.decision.origin), scenario: e.scenario });
    else out.delete(e.value);
  }
  return out;
}

const sorted = (h: Held) => [...h.entries()].sort(([a], [b]) => a.localeCompare(b));

describe.skipIf(skip)(`vigil export crowdsec back to the real CrowdSec 1.4.6${skip ? ` (skipped: ${cs.reason ?? bouncers.reason})` : ''}`, () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-export-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  // Vigil's store on each dialect with CrowdSec's database on the same one; and CrowdSec on MariaDB (MySQL) beside a SQLite store.
  const stacks: Array<{ dialect: TestDialect; crowdsecOn: 'sqlite' | 'postgres' | 'mysql' }> = [
    ...DIALECTS.map((dialect) => ({ dialect, crowdsecOn: dialect })),
    ...(maria.available ? [{ dialect: 'sqlite' as const, crowdsecOn: 'mysql' as const }] : []),
  ];
  for (const { dialect, crowdsecOn } of stacks) {
    it(`${dialect} store, CrowdSec on ${crowdsecOn}: a bouncer started after the switch back holds exactly Vigil's decisions; the one that ran throughout agrees`, async () => {
      const csDb =
        crowdsecOn === 'postgres'
          ? await freshDbUrl('postgres')
          : crowdsecOn === 'mysql'
            ? await startMariadb({ workDir: work }).then((m) => ({ url: m.url, cleanup: () => m.destroy() }))
            : null;
      const csDbConfig: CrowdsecDb | undefined = csDb
        ? crowdsecOn === 'mysql'
          ? { type: 'mysql', url: csDb.url }
          : { type: 'postgresql', url: csDb.url }
        : undefined;
      const vigilDb = await freshDbUrl(dialect);
      let crowdsec: CrowdsecInstance | undefined;
      let vigil: VigilServe | undefined;
      const running: CustomBouncerHandle[] = [];
      try {
        crowdsec = await startCrowdsec({ workDir: work, ...(csDbConfig ? { db: csDbConfig } : {}) });
        const key = await crowdsec.addBouncer('edge');
        await crowdsec.addDecision({ ip: '192.0.2.10', duration: '2h', reason: 'kept-from-crowdsec' });
        await crowdsec.addDecision({ ip: '192.0.2.11', duration: '2h', reason: 'deleted-on-vigil' });
        await crowdsec.addDecision({ range: '198.51.100.0/24', duration: '1h', reason: 'kept-range', type: 'captcha' });
        const throughout = await startCustomBouncer({ apiUrl: crowdsec.url, apiKey: key, workDir: work, updateFrequency: '1s' });
        running.push(throughout);
        await until(
          "the bouncer to hold CrowdSec's three decisions",
          async () => (held(throughout.events()).size === 3 ? true : undefined),
          () => throughout.logs(),
          20_000,
        );

        // The switch: CrowdSec's Local API stops, Vigil takes its address with its data.
        await crowdsec.stop();
        const imported = await runVigil({ env: { VIGIL_DB: vigilDb.url }, cwd: work }, ['import', 'crowdsec', '--crowdsec-config', crowdsec.configPath]);
        expect(imported.code, imported.err).toBe(0);
        vigil = await startVigilServe({ workDir: work, listen: crowdsec.listen, db: vigilDb.url, configLines: ['activity_flush_every: 250ms'] });

        // Life on Vigil: new decisions, a deletion of one CrowdSec made, one made and deleted, a new bouncer.
        await vigil.cli('decisions', 'add', '--ip', '203.0.113.5', '--duration', '3h', '--reason', 'made-on-vigil');
        await vigil.cli('decisions', 'add', '--range', '2001:db8:5::/64', '--duration', '90m', '--reason', 'v6-range-on-vigil', '--type', 'captcha');
        await vigil.cli('decisions', 'add', '--ip', '203.0.113.6', '--duration', '1h', '--reason', 'short-lived');
        await vigil.cli('decisions', 'delete', '--ip', '192.0.2.11');
        await vigil.cli('decisions', 'delete', '--ip', '203.0.113.6');
        const newKey = (await vigil.cli('bouncers', 'add', 'made-on-vigil', '-o', 'raw')).trim();
        const onVigil = await until(
          'the running bouncer to follow Vigil',
          async () => {
            const h = held(throughout.events());
            return h.has('203.0.113.5') && h.has('2001:db8:5::/64') && !h.has('192.0.2.11') && !h.has('203.0.113.6') ? h : undefined;
          },
          () => `${throughout.logs()}\n${vigil!.logs()}`,
          20_000,
        );
        expect([...onVigil.keys()].sort()).toEqual(['192.0.2.10', '198.51.100.0/24', '2001:db8:5::/64', '203.0.113.5']);

        // The way back: Vigil stops (the export refuses while it runs), the export writes CrowdSec's database, CrowdSec's Local API starts.
        await expect(vigil.cli('export', 'crowdsec', '--crowdsec-config', crowdsec.configPath)).rejects.toThrow(
          /vigil serve \(pid \d+\) still runs on this store: stop it first/,
        );
        await vigil.stop();
        const dry = JSON.parse(await vigil.cli('export', 'crowdsec', '--crowdsec-config', crowdsec.configPath, '--dry-run', '-o', 'json'));
        expect([dry.decisions, dry.kept, dry.expired, dry.bouncersAdded, dry.machinesAdded]).toEqual([2, 2, 1, ['made-on-vigil'], []]);
        const again = JSON.parse(await vigil.cli('export', 'crowdsec', '--crowdsec-config', crowdsec.configPath, '--dry-run', '-o', 'json'));
        expect(again.decisions).toBe(2); // the dry run wrote nothing
        await vigil.cli('export', 'crowdsec', '--crowdsec-config', crowdsec.configPath);
        const second = JSON.parse(await vigil.cli('export', 'crowdsec', '--crowdsec-config', crowdsec.configPath, '--dry-run', '-o', 'json'));
        expect([second.decisions, second.kept, second.expired, second.bouncersAdded]).toEqual([0, 4, 0, []]);
        await crowdsec.start();

        // A bouncer registered on Vigil, started now: its key works on CrowdSec, and it receives exactly Vigil's decisions.
        const fresh = await startCustomBouncer({ apiUrl: crowdsec.url, apiKey: newKey, workDir: work, updateFrequency: '1s' });
        running.push(fresh);
        const afterBack = await until(
          'the new bouncer to receive its decisions',
          async () => (held(fresh.events()).size >= 4 ? held(fresh.events()) : undefined),
          () => `${fresh.logs()}\n${crowdsec!.logs()}`,
          20_000,
        );
        // A few more pulls: nothing else arrives (no deleted decision comes back).
        await new Promise((r) => setTimeout(r, 2_500));
        expect(sorted(held(fresh.events()))).toEqual(sorted(onVigil));
        expect(sorted(afterBack)).toEqual(sorted(onVigil));
        const made = fresh.events().find((e) => e.value === '203.0.113.5')!;
        expect(made.decision).toMatchObject({ origin: 'cscli', scope: 'Ip', type: 'ban', scenario: 'made-on-vigil' });
        expect(made.seconds).toBeGreaterThan(3 * 3600 - 120);

        // The bouncer that ran throughout, still on the same address, agrees.
        await until(
          'the running bouncer to pull from CrowdSec again',
          async () => (throughout.events().length > 0 ? true : undefined),
          () => throughout.logs(),
          10_000,
        );
        await new Promise((r) => setTimeout(r, 2_500));
        expect(sorted(held(throughout.events()))).toEqual(sorted(onVigil));

        // Live lookups on CrowdSec find the exported rows by address (its integer columns), with the old key.
        const live = async (ip: string) =>
          (await (await fetch(`${crowdsec!.url}v1/decisions?ip=${encodeURIComponent(ip)}`, { headers: { 'X-Api-Key': key } })).json()) as Array<{
            value: string;
          }> | null;
        expect((await live('203.0.113.5'))?.map((d) => d.value)).toEqual(['203.0.113.5']);
        expect((await live('2001:db8:5::77'))?.map((d) => d.value)).toEqual(['2001:db8:5::/64']);
        expect(await live('192.0.2.11')).toBeNull();
        // cscli sees them too, under their alert.
        const list = JSON.parse((await crowdsec.cscli(['decisions', 'list', '-o', 'json'])).stdout) as Array<{ decisions: Array<{ value: string }> }>;
        expect(list.flatMap((a) => a.decisions.map((d) => d.value)).sort()).toEqual([...onVigil.keys()].sort());
      } finally {
        for (const b of running) await b.stop();
        await vigil?.stop();
        await crowdsec?.destroy();
        await vigilDb.cleanup();
        await csDb?.cleanup();
      }
    }, 180_000);
  }

  for (const dialect of DIALECTS) {
    it(`${dialect}: --to-file writes what cscli decisions import takes, and the deletions as cscli commands`, async () => {
      const vigilDb = await freshDbUrl(dialect);
      let crowdsec: CrowdsecInstance | undefined;
      const vigil = (...argv: string[]) => runVigil({ env: { VIGIL_DB: vigilDb.url }, cwd: work }, argv);
      try {
        crowdsec = await startCrowdsec({ workDir: work });
        await crowdsec.addDecision({ ip: '192.0.2.20', duration: '2h', reason: 'deleted-on-vigil' });
        expect((await vigil('import', 'crowdsec', '--crowdsec-config', crowdsec.configPath)).code).toBe(0);
        await vigil('decisions', 'add', '--ip', '203.0.113.20', '--duration', '3h', '--reason', 'made-on-vigil');
        await vigil('decisions', 'add', '--range', '2001:db8:20::/48', '--duration', '1h', '--reason', 'v6', '--type', 'captcha');
        expect((await vigil('decisions', 'delete', '--ip', '192.0.2.20')).code).toBe(0);
        const file = path.join(crowdsec.dir, 'from-vigil.json');
        const dry = await vigil('export', 'crowdsec', '--to-file', file, '--dry-run');
        expect(dry.code, dry.err).toBe(0);
        expect(fs.existsSync(file)).toBe(false);
        const run = await vigil('export', 'crowdsec', '--to-file', file);
        expect(run.code, run.err).toBe(0);
        expect(run.err).toContain(`exported to ${file}: 2 decision(s)`);
        expect(run.err).toContain(`1 deletion(s) in ${file}.sh`);
        expect(run.err).toContain('bouncers and machines are not in the file');

        // As the operator would: FILE.sh (the deletions first, then each scope's import) with CrowdSec's own cscli.
        const env = { ...process.env, PATH: `${crowdsec.dir}:${process.env.PATH}` };
        const { execFileSync } = await import('node:child_process');
        execFileSync('sh', [`${file}.sh`], { env, stdio: 'pipe' });
        // -a: 1.4.6 lists cscli-import decisions only with it.
        const list = JSON.parse((await crowdsec.cscli(['decisions', 'list', '-a', '-o', 'json'])).stdout) as Array<{
          decisions: Array<{ value: string; type: string; scope: string; scenario: string }>;
        }>;
        expect(list.flatMap((a) => a.decisions.map((d) => `${d.type} ${d.scope} ${d.value} ${d.scenario}`)).sort()).toEqual([
          'ban Ip 203.0.113.20 made-on-vigil',
          'captcha Range 2001:db8:20::/48 v6',
        ]);
      } finally {
        await crowdsec?.destroy();
        await vigilDb.cleanup();
      }
    }, 120_000);
  }
});
