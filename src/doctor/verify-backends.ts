/**
 * Where `vigil verify` writes its test decision.
 *
 * - Vigil's own store (the configured `db`): the decision is written exactly as
 *   `vigil decisions add` writes it (origin `cscli`, a manual alert), so a bouncer that filters on
 *   origins sees it as it would see an operator's; the bouncer's last pull is read from the store.
 * - A real CrowdSec, through its `cscli` (`--cscli "cscli"` or a wrapper with `-c CONFIG`):
 *   `cscli decisions add` posts an alert through the Local API as CrowdSec's own tools do,
 *   `cscli decisions list --ip -o json` finds the decision's id by its unique reason,
 *   `cscli decisions delete --id` removes exactly that one, `cscli bouncers list -o json` gives the
 *   last pull.
 */
import { formatGoDuration } from '../lib/duration.ts';
import { buildDecision, manualAlert } from '../core/decisions/new-decisions.ts';
import { selectDecisions } from '../core/decisions/select.ts';
import { VigilError } from '../lib/errors.ts';
import { parseIp } from '../lib/ip.ts';
import type { Store } from '../store/store.ts';
import { runCommand } from './host.ts';
import type { DecisionBackend } from './verify.ts';
import { getBouncer } from '../store/bouncers.ts';
import { activeDecisions, addDecisions, softDeleteDecisions } from '../store/decisions.ts';

const VERIFY_MACHINE = 'vigil-verify';

export function storeBackend(store: Store): DecisionBackend {
  return {
    describe: `Vigil store ${store.description}`,
    async existingDecisions(ip, now) {
      const found = selectDecisions(await activeDecisions(store, now), { ip: parseIp(ip) });
      return found.map((d) => `${d.type} ${d.scope} ${d.value} (id ${d.id}, ${formatGoDuration(d.until - now)} left)`);
    },
    async addDecision({ ip, type, durationMs, reason, now }) {
      const d = buildDecision({ scope: 'Ip', value: ip, type, duration: `${Math.ceil(durationMs / 1000)}s`, reason, origin: 'cscli' }, now);
      const r = await addDecisions(store, manualAlert({ now, scenario: reason, scope: d.scope, value: d.value, count: 1, machineId: VERIFY_MACHINE }), [d]);
      return { id: String(r.decisionIds[0]) };
    },
    async removeDecision(id, { now }) {
      return (await softDeleteDecisions(store, [Number(id)], now)) > 0;
    },
    async lastPull(name) {
      const b = await getBouncer(store, name);
      return b ? { lastPullAt: b.lastPullAt } : undefined;
    },
  };
}

interface CscliAlert {
  scenario?: string;
  decisions?: { id: number; type: string; scope: string; value: string; duration: string; scenario?: string }[] | null;
}

/** `command` is cscli and its leading arguments, e.g. `['cscli']` or `['cscli', '-c', '/etc/crowdsec/config.yaml']`. */
export function cscliBackend(command: string[], opts: { timeoutMs?: number } = {}): DecisionBackend {
  const [bin, ...lead] = command;
  const runFull = async (args: string[]) => {
    const r = await runCommand(bin, [...lead, ...args], { timeoutMs: opts.timeoutMs ?? 30_000 });
    if (r.failure === 'not-found') throw new VigilError('E_CSCLI', `--cscli: ${bin} not found`);
    if (r.code !== 0)
      throw new VigilError('E_CSCLI', `cscli ${args.slice(0, 2).join(' ')} failed: ${(r.stderr || r.stdout || r.message || '').trim().split('\n').pop()}`);
    return r;
  };
  const run = async (args: string[]): Promise<string> => (await runFull(args)).stdout;
  const listFor = async (ip: string): Promise<CscliAlert[]> => {
    const out = (await run(['decisions', 'list', '--ip', ip, '-o', 'json'])).trim();
    return out === '' || out === 'null' ? [] : (JSON.parse(out) as CscliAlert[]);
  };
  return {
    describe: `CrowdSec via ${command.join(' ')}`,
    async existingDecisions(ip) {
      return (await listFor(ip)).flatMap((a) => (a.decisions ?? []).map((d) => `${d.type} ${d.scope} ${d.value} (id ${d.id}, ${d.duration} left)`));
    },
    async addDecision({ ip, type, durationMs, reason }) {
      await run(['decisions', 'add', '--ip', ip, '--type', type, '--duration', `${Math.ceil(durationMs / 1000)}s`, '--reason', reason]);
      const ours = (await listFor(ip)).filter((a) => a.scenario === reason).flatMap((a) => a.decisions ?? []);
      if (ours.length === 0) throw new VigilError('E_CSCLI', `cscli decisions add succeeded but the decision "${reason}" is not listed`);
      return { id: String(ours[0].id) };
    },
    async removeDecision(id) {
      const r = await runFull(['decisions', 'delete', '--id', id]);
      // cscli logs "N decision(s) deleted" on stderr.
      return !/\b0 decision/.test(`${r.stdout}${r.stderr}`);
    },
    async lastPull(name) {
      const rows = JSON.parse((await run(['bouncers', 'list', '-o', 'json'])).trim() || 'null') as { name: string; last_pull?: string | null }[] | null;
      const b = (rows ?? []).find((r) => r.name === name);
      if (!b) return undefined;
      const t = b.last_pull ? Date.parse(b.last_pull) : NaN;
      return { lastPullAt: Number.isNaN(t) || t <= 0 ? null : t };
    },
  };
}
