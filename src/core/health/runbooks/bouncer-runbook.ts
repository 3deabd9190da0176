/**
 * The RC Integration Offline page's diagnosis, resolution and verification steps
 * (docs/reference/rc-integration-offline.md), kept as data and tailored to one bouncer:
 * its family's config file and keys, its service, where it and the Local API run, and the most
 * likely cause first. Pure: builds text, runs nothing.
 *
 * Every value that reaches a shell command (bouncer name, container, namespace, Local API URL, and
 * anything derived from the User-Agent) goes through `shellQuote`: names come from operators and
 * types from any client holding a key.
 */
import { CAUSES, causeSummary, type CauseDefinition } from '../causes.ts';
import { ISSUE_CATALOGUE } from '../types.ts';
import { envFor, type Env, lapiCmd, serviceOps, withoutSystemd } from './env.ts';
import { FIREWALL_VERIFY } from './profiles-daemons.ts';
import { code } from './quoting.ts';
import { DIAGNOSE, ordered, RESOLVE, SEED_ORDER, type StepFn, type StepId } from './steps.ts';
import type { Deployment, Runbook, RunbookContext, RunbookStep } from './types.ts';

function verifySteps(e: Env): RunbookStep[] {
  const ops = serviceOps(e);
  const live =
    e.ctx.kind === 'remediation'
      ? ` A live-mode bouncer${e.p.liveByDefault ? ' (the default for this one)' : ''} pulls only when it serves a request, so send one through it first.`
      : '';
  const test: RunbookStep =
    e.p.verify ??
    (e.ctx.kind === 'firewall'
      ? FIREWALL_VERIFY
      : {
          text: 'Request your service as that IP: expect 403 Forbidden or a captcha. (This works when the service trusts X-Forwarded-For from where you run curl; otherwise ban the address you test from.)',
          commands: ['curl -H "X-Forwarded-For: 192.0.2.1" http://your-service/'],
        });
  const logs: RunbookStep[] =
    ops.logs.length > 0 ? [{ text: 'Its logs show a successful connection (no more connection refused or 403):', commands: ops.logs.slice(0, 1) }] : [];
  return [
    { text: withoutSystemd(e) ? 'The bouncer process is running:' : 'The bouncer service is running:', commands: ops.status },
    {
      text: `Pulls resume: "Last API pull" of ${code(e.ctx.bouncerName)} updates within seconds to minutes.${live}`,
      commands: [lapiCmd(e, 'bouncers list')],
    },
    ...logs,
    {
      text: 'Test remediation with a 5-minute decision on a documentation address:',
      commands: [lapiCmd(e, 'decisions add --ip 192.0.2.1 --duration 5m --reason test')],
    },
    { text: test.text, commands: test.commands },
    { text: 'Remove the test decision:', commands: [lapiCmd(e, 'decisions delete --ip 192.0.2.1')] },
  ];
}

const WHERE: Record<Deployment, string> = { host: 'host', docker: 'Docker', kubernetes: 'Kubernetes' };

export function runbookFor(ctx: RunbookContext): Runbook {
  const e = envFor(ctx);
  // The heading names the open issue: a Warning (Integration Late) is not called Offline.
  const issue = ISSUE_CATALOGUE[ctx.issue ?? (ctx.kind === 'firewall' ? 'fw_integration_offline' : 'rc_integration_offline')].title;
  const late = ctx.issue === 'integration_late';
  const first = (CAUSES as Record<string, CauseDefinition>)[ctx.cause]?.first ?? { diagnose: [], resolve: [] };
  const build = (ids: StepId[], table: Partial<Record<StepId, StepFn>>): RunbookStep[] =>
    ids.flatMap((id) => {
      const step = table[id]?.(e);
      return step ? [step] : [];
    });
  const typeText = ctx.bouncerType === '' ? 'unknown type' : `type ${code(ctx.bouncerType)}`;
  const likely = ctx.cause === 'unknown' ? `Likely cause: ${causeSummary('unknown')}.` : `Most likely ${causeSummary(ctx.cause)}; those steps come first.`;
  return {
    title: `${issue}: ${code(ctx.bouncerName)} (${e.p.label}, ${WHERE[e.where]})`,
    summary: `${code(ctx.bouncerName)} (${typeText}) ${late ? 'has not pulled decisions for longer than usual' : 'has stopped pulling decisions'} from the Local API at ${code(e.url)}, so ${ctx.kind === 'firewall' ? `its firewall rules ${late ? 'may be' : 'are'} going stale` : `threats reaching it ${late ? 'may not be' : 'are not'} blocked or challenged`}. ${likely}`,
    configPath: e.p.configPath,
    serviceName: e.p.unit,
    sections: [
      { title: 'Diagnose', steps: build(ordered(first.diagnose, SEED_ORDER.diagnose), DIAGNOSE) },
      { title: 'Resolve', steps: build(ordered(first.resolve, SEED_ORDER.resolve), RESOLVE) },
      { title: 'Verify', steps: verifySteps(e) },
    ],
  };
}
