import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport, Finding } from '../src/core/doctor/finding.ts';
import { crowdsecAvailable, startCrowdsec, type CrowdsecInstance } from './support/crowdsec-instance.ts';
import { DIALECTS, freshDbUrl } from './support/databases.ts';
import { cliRunner } from './support/cli.ts';
import { requestFrom } from './support/http-from.ts';
import { startVigilServe, type VigilServe } from './support/vigil-serve.ts';
import { until } from './support/wait.ts';

/**
 * Issue 30 item 5: a bouncer package installed after the switch to Vigil runs `cscli bouncers add`
 * in its postinst, which writes into CrowdSec's own database (here a REAL CrowdSec 1.4.6's SQLite,
 * written by its own cscli), not Vigil's, so Vigil refuses its key. `vigil doctor` and the bouncer's
 * fail-open issue must name that case and its fix; the fix (`vigil bouncers add NAME --key KEY`) works.
 * CrowdSec's database is read where its config says: its SQLite file, or PostgreSQL.
 */
const cs = crowdsecAvailable();
const UA = 'crowdsec-firewall-bouncer/v0.0.28';

interface IssueJson {
  id: number;
  subject: string;
  criticality: string;
  evidence: { causes: { cause: string; evidence: string[] }[] };
}

for (const crowdsecOn of DIALECTS)
  describe.skipIf(!cs.available && !process.env.CI)(`a bouncer registered with cscli after the switch, CrowdSec on ${crowdsecOn} ${cs.reason ?? ''}`, () => {
    let dir: string;
    let crowdsec: CrowdsecInstance;
    let vigil: VigilServe;

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-after-switch-'));
      // CrowdSec's config and database stay on the host after the switch; its Local API no longer runs.
      const db = crowdsecOn === 'postgres' ? { type: 'postgresql' as const, url: (await freshDbUrl('postgres')).url } : undefined;
      crowdsec = await startCrowdsec({ workDir: dir, start: false, ...(db ? { db } : {}) });
      vigil = await startVigilServe({
        workDir: dir,
        configLines: [
          'activity_flush_every: 100ms',
          'health:',
          '  evaluate_every: 500ms',
          '  fail_open_after: 2s',
          'watch:',
          `  crowdsec_config: ${crowdsec.configPath}`,
        ],
      });
    }, 120_000);

    afterAll(async () => {
      await vigil?.stop();
      await crowdsec?.destroy();
    });

    const run = cliRunner(() => ({ cwd: dir }));
    const doctor = async (file: string): Promise<Finding> => {
      const r = await run('doctor', '-o', 'json', '--no-service-checks', '--timeout', '5s', '--crowdsec-config', crowdsec.configPath, file);
      return (JSON.parse(r.out) as DoctorReport).targets.flatMap((t) => t.findings).find((f) => f.check === 'lapi.key')!;
    };

    it("vigil doctor names the key as one in CrowdSec's database, and its fix makes the key accepted", async () => {
      // What the package's postinst does: cscli -oraw bouncers add cs-firewall-bouncer-<time>.
      const name = 'cs-firewall-bouncer-1767225600';
      const key = await crowdsec.addBouncer(name);
      const file = path.join(dir, 'crowdsec-firewall-bouncer.yaml');
      fs.writeFileSync(file, `mode: nftables\napi_url: ${vigil.url}\napi_key: ${key}\n`, { mode: 0o600 });
      const refused = await doctor(file);
      expect(refused.status).toBe('fail');
      expect(refused.title).toContain(`CrowdSec's own database has it, as bouncer '${name}'`);
      const line = refused.evidence.find((e) => e.includes(`(CrowdSec's database on this host) lists bouncer '${name}' with this key`));
      expect(line).toBeDefined();
      expect(line!.startsWith(crowdsecOn === 'postgres' ? 'postgres://' : `sqlite:${crowdsec.dbPath} `)).toBe(true);
      expect(refused.fix).toContain(`sudo vigil bouncers add ${name} --key KEY, with KEY the api_key in`);
      expect(JSON.stringify(refused)).not.toContain(key);
      // The fix, as written.
      await vigil.cli('bouncers', 'add', name, '--key', key);
      // The Local API notices a new bouncer within about a second (server/auth.ts).
      await until(
        'doctor to find the key accepted',
        async () => ((await doctor(file)).status === 'ok' ? true : undefined),
        () => vigil.logs().slice(-2000),
        15_000,
        500,
      );
    }, 60_000);

    it("a bouncer re-registered with cscli (package reinstalled) is failing open, and the issue's cause says where its key went", async () => {
      const oldKey = (await vigil.cli('bouncers', 'add', 'fw', '-o', 'raw')).trim();
      const pull = (key: string) =>
        requestFrom(`${vigil.url}v1/decisions/stream?startup=true`, { headers: { 'X-Api-Key': key, 'User-Agent': UA }, localAddress: '127.0.0.2' });
      expect((await pull(oldKey)).status).toBe(200);
      // The reinstalled package registered a new key with cscli, into CrowdSec's database.
      const newName = 'cs-firewall-bouncer-1767229200';
      const newKey = await crowdsec.addBouncer(newName);
      const issue = await until(
        "fw's fail-open issue naming CrowdSec's database",
        async () => {
          expect((await pull(newKey)).status).toBe(403);
          const list = JSON.parse(await vigil.cli('issues', 'list', '-o', 'json')) as IssueJson[];
          const i = list.find((x) => x.subject === 'bouncer:fw' && x.evidence.causes[0]?.cause === 'fail_open');
          return i?.evidence.causes[0]?.evidence.some((e) => e.includes(newName)) ? i : undefined;
        },
        () => vigil.logs().slice(-3000),
        60_000,
        500,
      );
      const evidence = issue.evidence.causes[0]!.evidence;
      expect(evidence[0]).toBe(
        `the refused key is registered in CrowdSec's own database as bouncer '${newName}', not in Vigil's: it was added with cscli bouncers add (a bouncer package's postinst does that) after the switch to Vigil`,
      );
      expect(evidence[1]).toContain(`sudo vigil bouncers add ${newName} --key KEY`);
      expect(JSON.stringify(issue)).not.toContain(newKey);
    }, 90_000);
  });
