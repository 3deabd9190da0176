/**
 * The `vigil watch` rows: an unchanged CrowdSec 1.4.6 (Debian's, logging to crowdsec_api.log as the
 * package does, Prometheus on), its agent and a real custom bouncer pulling from it; `vigil watch
 * --crowdsec-config` beside it with default settings.
 */
import path from 'node:path';
import { startCrowdsec, type CrowdsecInstance } from '../../test/support/crowdsec-instance.ts';
import { startCrowdsecAgent } from '../../test/support/crowdsec-agent.ts';
import { sleep } from '../support.ts';
import { about, pageRow, Pager, quietRow, type Row, until, VigilProcess } from './harness.ts';
import { startBouncer, type RowContext } from './serve-rows.ts';

async function crowdsecWithWatch(ctx: RowContext): Promise<{ cs: CrowdsecInstance; v: VigilProcess; pager: Pager }> {
  const cs = await startCrowdsec({ workDir: ctx.dir, logMedia: 'file', prometheus: true });
  ctx.cleanup.push(() => cs.destroy());
  const pager = await new Pager().start();
  ctx.cleanup.push(() => pager.close());
  const v = await VigilProcess.watch(path.join(ctx.dir, 'watch'), cs.configPath, pager.channelLines());
  ctx.cleanup.push(() => v.stop());
  await v.start();
  return { cs, v, pager };
}

/** A healthy bouncer watched for `watchMs`: never shown late, nothing paged; then CrowdSec's LAPI stops. */
export async function watchHealthyThenLapiDown(ctx: RowContext, watchMs = 600_000): Promise<Row[]> {
  const { cs, v, pager } = await crowdsecWithWatch(ctx);
  const key = await cs.addBouncer('edge');
  await startBouncer(ctx, cs.url, key);
  const learnt = await until(async () => ((await v.bouncer('edge'))?.pull_cadence_ms ? true : undefined), 240_000, 2000);
  const from = Date.now();
  let samples = 0;
  let late = 0;
  while (Date.now() - from < watchMs) {
    const health = (await v.bouncer('edge').catch(() => undefined))?.health;
    if (health !== undefined) {
      samples++;
      if (health !== 'healthy') late++;
    }
    await sleep(2000);
  }
  const healthy = quietRow(
    `watch, healthy 10 s bouncer for ${Math.round(watchMs / 60_000)} min (no \`late\`)`,
    Math.round((Date.now() - from) / 1000),
    pager.since(from),
    `${late} of ${samples} samples not healthy${learnt ? '' : ', cadence never learnt'}`,
  );
  const rows = [late === 0 && learnt ? healthy : { ...healthy, pass: false }];

  await cs.stop();
  const stoppedAt = Date.now();
  const lapiPage = await pager.first((p) => p.event === 'opened' && p.issues.some((i) => i.bouncer !== 'edge'), stoppedAt, 180_000);
  await sleep(Math.max(0, stoppedAt + 120_000 - Date.now()));
  const blamed = pager.since(stoppedAt, about('edge'));
  const row = pageRow('watch, CrowdSec LAPI stopped', 60, lapiPage, stoppedAt, lapiPage?.issues[0]?.subject ?? '');
  rows.push(blamed.length ? { ...row, pass: false, what: `${row.what}; the bouncer was blamed: ${blamed.map((p) => p.event).join(',')}` } : row);
  return rows;
}

/** The agent stops while CrowdSec's LAPI runs on: watch learns its heartbeats and raises it. */
export async function agentStoppedWatch(ctx: RowContext): Promise<Row[]> {
  const { cs, v, pager } = await crowdsecWithWatch(ctx);
  const password = 'agent-password-0123456789abcdef';
  // -f into this row's folder: cscli's default would overwrite /etc/crowdsec/local_api_credentials.yaml.
  await cs.cscli(['machines', 'add', 'agent', '--password', password, '-f', path.join(ctx.dir, 'agent-credentials.yaml'), '--force']);
  const agent = await startCrowdsecAgent({ workDir: ctx.dir, lapiUrl: cs.url, login: 'agent', password });
  ctx.cleanup.push(() => agent.destroy());
  const learnt = await until(
    async () => {
      const m = JSON.parse(await v.cli('machines', 'inspect', 'agent', '-o', 'json')) as Record<string, unknown>;
      return typeof m.heartbeat_cadence_ms === 'number' && m.heartbeat_cadence_ms > 0 ? true : undefined;
    },
    600_000,
    5000,
  );
  await agent.stop();
  const stoppedAt = Date.now();
  const page = await pager.first((p) => p.event === 'opened' && about('machine:agent')(p), stoppedAt, 600_000);
  return [pageRow(`agent stopped (watch)${learnt ? '' : ' (no heartbeat cadence learnt in 10 min)'}`, 180, page, stoppedAt, 'machine:agent')];
}
