/**
 * The `vigil serve` rows: a real crowdsec-custom-bouncer (Debian's, update_frequency 10 s as shipped)
 * and the real CrowdSec 1.4.6 agent against the real `vigil serve`, default health settings.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { startCustomBouncer, type CustomBouncerHandle } from '../../test/support/custom-bouncer.ts';
import { startCrowdsecAgent, type CrowdsecAgent } from '../../test/support/crowdsec-agent.ts';
import { sleep } from '../support.ts';
import { about, pageRow, Pager, quietRow, type Row, until, VigilProcess } from './harness.ts';

const exec = promisify(execFile);
const UPDATE_FREQUENCY = '10s';
export const STALE_KEY = 'stale-key-0000000000000000000000000';
/** The longest a learnt 10 s bouncer may take to show its cadence (about 6 pulls). */
const LEARN_TIMEOUT_MS = 150_000;

export interface RowContext {
  /** A folder of this row's own. */
  dir: string;
  /** Processes and receivers to stop at the end, whatever happened. */
  cleanup: Array<() => Promise<void> | void>;
  /** How long Vigil stays down in the outage row (10 min by default). */
  downMs: number;
}

/** A serve with a pager on its config, started. */
async function servedWithPager(ctx: RowContext, withChannel = true): Promise<{ v: VigilProcess; pager: Pager }> {
  const pager = await new Pager().start();
  ctx.cleanup.push(() => pager.close());
  const v = await VigilProcess.serve(path.join(ctx.dir, 'serve'), withChannel ? pager.channelLines() : []);
  ctx.cleanup.push(() => v.stop());
  await v.start();
  return { v, pager };
}

/** A registered custom bouncer pulling every 10 s, once serve knows its cadence. */
export async function learntBouncer(ctx: RowContext, v: VigilProcess, name: string): Promise<{ bouncer: CustomBouncerHandle; key: string }> {
  const key = (await v.cli('bouncers', 'add', name, '-o', 'raw')).trim();
  const bouncer = await startBouncer(ctx, v.url, key);
  const learnt = await until(async () => ((await v.bouncer(name))?.pull_cadence_ms ? true : undefined), LEARN_TIMEOUT_MS, 2000);
  if (!learnt) throw new Error(`${name}: no cadence learnt within ${LEARN_TIMEOUT_MS / 1000} s`);
  return { bouncer, key };
}

export async function startBouncer(ctx: RowContext, apiUrl: string, key: string): Promise<CustomBouncerHandle> {
  const b = await startCustomBouncer({ apiUrl, apiKey: key, updateFrequency: UPDATE_FREQUENCY, cacheRetentionDuration: '10s', workDir: ctx.dir });
  ctx.cleanup.push(() => b.stop());
  return b;
}

/** SIGKILL, as a crash or an OOM kill would: the moment it happened. */
export async function kill(b: CustomBouncerHandle): Promise<number> {
  process.kill(b.pid, 'SIGKILL');
  const at = Date.now();
  await b.stop();
  return at;
}

const opened = (subject: string) => (p: { event: string; issues: Array<{ subject: string; bouncer: string | null }> }) =>
  p.event === 'opened' && about(subject)(p as never);

export async function freshServeKilled(ctx: RowContext): Promise<Row[]> {
  const { v, pager } = await servedWithPager(ctx);
  const { bouncer } = await learntBouncer(ctx, v, 'edge');
  const killedAt = await kill(bouncer);
  const page = await pager.first(opened('edge'), killedAt, 240_000);
  return [pageRow('serve fresh, stream 10 s, killed', 90, page, killedAt, 'edge')];
}

export async function restartedServeKilled(ctx: RowContext): Promise<Row[]> {
  const { v, pager } = await servedWithPager(ctx);
  const { bouncer } = await learntBouncer(ctx, v, 'edge');
  await v.stop();
  await v.start();
  const restartedAt = Date.now();
  // The bouncer reconnects and pulls a few times after the restart before it dies.
  await sleep(30_000);
  const killedAt = await kill(bouncer);
  const page = await pager.first(opened('edge'), killedAt, 240_000);
  const early = pager.since(restartedAt, (p) => p.at < killedAt && about('edge')(p));
  const row = pageRow('serve restarted after learning, then killed', 90, page, killedAt, 'edge');
  if (early.length) return [{ ...row, pass: false, what: `${row.what}; paged before the kill: ${early.map((p) => p.event).join(',')}` }];
  return [row];
}

export async function serveDownThenBack(ctx: RowContext): Promise<Row[]> {
  const { v, pager } = await servedWithPager(ctx);
  const { bouncer } = await learntBouncer(ctx, v, 'edge');
  await v.stop();
  await sleep(ctx.downMs);
  await v.start();
  const backAt = Date.now();
  const watchMs = 180_000;
  await sleep(watchMs);
  const health = (await v.bouncer('edge'))?.health ?? '-';
  const pages = pager.since(backAt);
  const row = quietRow(`serve down ${Math.round(ctx.downMs / 60_000)} min, then back`, watchMs / 1000, pages, `bouncer ${health} after`);
  await bouncer.stop();
  return [health === 'healthy' ? row : { ...row, pass: false }];
}

export async function wrongKeyStream(ctx: RowContext): Promise<Row[]> {
  const { v, pager } = await servedWithPager(ctx);
  const { bouncer } = await learntBouncer(ctx, v, 'edge');
  // The key was rotated and the bouncer restarted with the old one: every pull is refused.
  await bouncer.stop();
  await startBouncer(ctx, v.url, STALE_KEY);
  const from = Date.now();
  const paged = await pager.first(about('edge'), from, 240_000);
  const critical = await pager.first((p) => p.issues.some((i) => i.bouncer === 'edge' && i.criticality === 'critical'), from, 240_000);
  const auth = (i: { likelyCause: { cause: string } | null }) =>
    i.likelyCause?.cause === 'authentication' || i.likelyCause?.cause === 'fail_open' ? null : 'cause is not authentication or fail_open';
  return [
    pageRow('wrong key, stream: paged', 90, paged, from, 'edge', auth),
    pageRow('wrong key, stream: Critical (fail-open)', 120, critical, from, 'edge', auth),
  ];
}

/** After the Critical page, the operator diagnoses the dead bouncer as the runbook says: nothing may de-escalate. */
export async function probesOnDeadBouncer(ctx: RowContext): Promise<Row[]> {
  const { v, pager } = await servedWithPager(ctx);
  const { bouncer, key } = await learntBouncer(ctx, v, 'edge');
  const killedAt = await kill(bouncer);
  const critical = await pager.first((p) => p.issues.some((i) => i.bouncer === 'edge' && i.criticality === 'critical'), killedAt, 900_000);
  const criticalRow = pageRow('serve, killed: Critical (default escalation)', 660, critical, killedAt, 'edge');
  const probedAt = Date.now();
  const doctor = await v.cliResult('doctor', bouncer.files.config);
  await exec('curl', ['-sS', '-I', '-H', `X-Api-Key: ${key}`, `${v.url}v1/decisions`]).catch(() => undefined);
  const watchMs = 60_000;
  await sleep(watchMs);
  const health = (await v.bouncer('edge'))?.health ?? '-';
  const wrong = pager.since(probedAt, (p) => about('edge')(p) && (p.event === 'resolved' || p.issues.some((i) => i.criticality !== 'critical')));
  const row = quietRow('`vigil doctor` + `curl -I` with the key on the dead bouncer', watchMs / 1000, wrong, `doctor exit ${doctor.code}, status ${health}`);
  return [criticalRow, health === 'offline' ? row : { ...row, pass: false, what: `${row.what}; status ${health}` }];
}

/** A machine added with `vigil machines add` and the real CrowdSec 1.4.6 agent logged in with it. */
async function runningAgent(ctx: RowContext, v: VigilProcess, name: string): Promise<CrowdsecAgent> {
  const password = `${name}-password-0123456789abcdef`;
  await v.cli('machines', 'add', name, '--password', password);
  const agent = await startCrowdsecAgent({ workDir: ctx.dir, lapiUrl: v.url, login: name, password });
  ctx.cleanup.push(() => agent.destroy());
  return agent;
}

/** The agent stops; then cscli, logged in with the agent's own credentials, runs while it is stopped. */
export async function agentStoppedServe(ctx: RowContext): Promise<Row[]> {
  const { v, pager } = await servedWithPager(ctx);
  const agent = await runningAgent(ctx, v, 'agent');
  // Its heartbeat cadence is learnt from a few heartbeats (CrowdSec 1.4.6 sends one a minute).
  const learnt = await until(
    async () => {
      const m = JSON.parse(await v.cli('machines', 'inspect', 'agent', '-o', 'json')) as Record<string, unknown>;
      const c = m.heartbeatCadenceMs ?? m.heartbeat_cadence_ms;
      return typeof c === 'number' && c > 0 ? c : undefined;
    },
    600_000,
    5000,
  );
  const learntNote = learnt ? '' : ' (no heartbeat cadence learnt in 10 min)';
  await agent.stop();
  const stoppedAt = Date.now();
  const page = await pager.first(opened('machine:agent'), stoppedAt, 600_000);
  const rows = [pageRow(`agent stopped (serve)${learntNote}`, 180, page, stoppedAt, 'machine:agent')];
  // cscli -c <agent's config> logs in with the agent's credentials, as on a switched host.
  const csAt = Date.now();
  const cscli = await exec('cscli', ['-c', agent.configPath, 'decisions', 'list', '-o', 'json'])
    .then(() => 'ok')
    .catch((e: Error) => `failed: ${e.message.split('\n')[0]}`);
  await sleep(60_000);
  const resolved = pager.since(csAt, (p) => p.event === 'resolved' && about('machine:agent')(p));
  rows.push(quietRow('cscli run while the agent is stopped (no resolve)', 60, resolved, `cscli ${cscli}`));
  return rows;
}

/** A channel added to vigil.yaml and loaded with `vigil reload`: the next incident reaches it, no restart. */
export async function reloadNewChannel(ctx: RowContext): Promise<Row[]> {
  const { v, pager } = await servedWithPager(ctx, false);
  const { bouncer } = await learntBouncer(ctx, v, 'edge');
  const pid = v.pid;
  v.appendConfig(pager.channelLines());
  const reload = await v.cliResult('reload');
  const killedAt = await kill(bouncer);
  const page = await pager.first(opened('edge'), killedAt, 240_000);
  const row = pageRow('reload with a new channel (`vigil reload`)', 90, page, killedAt, 'edge');
  const samePid = v.pid === pid;
  if (reload.code !== 0 || !samePid)
    return [
      { ...row, pass: false, what: `${row.what}; vigil reload exit ${reload.code}${samePid ? '' : ', serve restarted'}: ${reload.out.trim().split('\n')[0]}` },
    ];
  return [row];
}
