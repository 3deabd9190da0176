/**
 * `vigil verify`: the seed's "Test remediation", done safely. Adds a short-lived test decision,
 * waits until the bouncer has pulled since (its last pull moves past the moment the decision was
 * committed) or its update period has passed, requests the protected URL with
 * `X-Forwarded-For: IP`, expects a 403 or a captcha page, and removes the test decision on every
 * path — failure, exception, Ctrl-C (the caller aborts `signal`).
 *
 * Time comes from a Clock and waiting from an injected `sleep`, so tests drive it without real
 * delays where they want to; the decision store and the HTTP request are injected too.
 */
import { formatGoDuration } from '../lib/duration.ts';
import type { HttpAnswer, NetFailure } from './network-probe.ts';
import { Aborted, VerifyRun } from './verify-run.ts';
import type { RemediationType, VerifyDeps, VerifyOptions, VerifyResult } from './verify-types.ts';

export { abortableSleep } from './verify-run.ts';
export type { DecisionBackend, RemediationType, Requester, VerifyDeps, VerifyOptions, VerifyResult, VerifyStep } from './verify-types.ts';

const CAPTCHA_MARKERS = /captcha|turnstile|hcaptcha|recaptcha/i;

/** How the service answered an address it should block. */
export function blockedBy(a: HttpAnswer): 'status 403' | 'a captcha page' | undefined {
  if (a.status === 403) return 'status 403';
  if (a.status < 500 && CAPTCHA_MARKERS.test(a.body)) return 'a captcha page';
  return undefined;
}

/**
 * With a captcha decision, a 401 or 429 that the address did not get before the decision is the
 * challenge too (Vigil's forward-auth answers 401 with its proof-of-work page).
 */
function challengeOrBlock(a: HttpAnswer, type: RemediationType, baselineStatus: number): string | undefined {
  const b = blockedBy(a);
  if (b) return b;
  if (type === 'captcha' && (a.status === 401 || a.status === 429) && a.status !== baselineStatus) return `a challenge (status ${a.status})`;
  return undefined;
}

const describe = (a: HttpAnswer | NetFailure, how?: string) => (a.ok ? `${a.status}${how ? ` (${how})` : ''}` : `${a.kind}: ${a.message}`);

/** Baseline, add a test decision, wait for the bouncer's pull, check the URL blocks the address, and always remove the decision. */
export async function runVerify(opts: VerifyOptions, deps: VerifyDeps): Promise<VerifyResult> {
  const run = new VerifyRun(opts, deps);
  try {
    const baselineStatus = await checkBaseline(run);
    if (baselineStatus === null) return run.result;
    const lastPullBefore = await addTestDecision(run);
    if (lastPullBefore === null) return run.result;
    if (!(await waitForPull(run, lastPullBefore))) return run.result;
    await checkBlocked(run, baselineStatus);
    return run.result;
  } catch (e) {
    if (e instanceof Aborted) {
      run.end('aborted', 'interrupted');
      return run.result;
    }
    throw e;
  } finally {
    await removeTestDecision(run);
    if (run.result.verdict === 'aborted') run.result.summary = abortedSummary(run);
    run.result.totalMs = run.now() - run.t0;
  }
}

/** 1. The address must not be blocked before the test decision exists. Its status then (for captcha challenges), or null: the run ends. */
async function checkBaseline(run: VerifyRun): Promise<number | null> {
  const { opts } = run;
  const existing = await run.deps.backend.existingDecisions(opts.ip, run.now());
  const t = run.now();
  const before = await run.requestUrl();
  run.checkAbort();
  if (!before.ok) {
    run.step({ step: 'baseline', ok: false, ms: run.now() - t, detail: `GET ${opts.url} as ${opts.ip}: ${describe(before)}` });
    run.end(
      'fail',
      `${opts.url} does not answer (${before.kind}): nothing to verify`,
      'check the URL and that the web server runs (vigil doctor checks the bouncer side)',
    );
    return null;
  }
  if (existing.length || blockedBy(before)) {
    run.step({
      step: 'baseline',
      ok: false,
      ms: run.now() - t,
      detail: `GET ${opts.url} as ${opts.ip} → ${describe(before, blockedBy(before))}${existing.length ? `; ${existing.length} decision(s) already cover ${opts.ip}: ${existing.slice(0, 3).join('; ')}` : ''}`,
    });
    run.end(
      'fail',
      existing.length
        ? `${opts.ip} already has an active decision: the test would prove nothing`
        : `${opts.url} already blocks ${opts.ip} without a decision: the test would prove nothing`,
      'pick another test address with --ip (one no decision covers), or find out why the service refuses it',
    );
    return null;
  }
  run.step({ step: 'baseline', ok: true, ms: run.now() - t, detail: `GET ${opts.url} as ${opts.ip} → ${describe(before)} (not blocked yet)` });
  return before.status;
}

/** 2. The test decision, once the named bouncer is known. The bouncer's last pull before it (undefined: none named), or null: the run ends. */
async function addTestDecision(run: VerifyRun): Promise<{ lastPullAt: number | null } | undefined | null> {
  const { opts, result } = run;
  const backend = run.deps.backend;
  let lastPullBefore: { lastPullAt: number | null } | undefined;
  if (opts.bouncer) {
    lastPullBefore = await backend.lastPull(opts.bouncer);
    if (!lastPullBefore) {
      run.end('fail', `no bouncer named '${opts.bouncer}' on the Local API`, 'give the name shown by vigil bouncers list (cscli bouncers list)');
      return null;
    }
  }
  const t = run.now();
  const added = await backend.addDecision({ ip: opts.ip, type: opts.type, durationMs: opts.decisionDurationMs, reason: run.reason, now: t });
  run.decisionId = added.id;
  result.decisionId = added.id;
  result.decisionRemoved = false;
  // A pull that started before this instant may have missed the decision: wait for a later one.
  run.committedAt = run.now();
  run.step({
    step: 'add',
    ok: true,
    ms: run.committedAt - t,
    detail: `${opts.type} ${opts.ip} for ${formatGoDuration(opts.decisionDurationMs)} (decision ${added.id}, ${backend.describe})`,
  });
  run.checkAbort();
  return lastPullBefore;
}

/** 3. Wait for the named bouncer to pull the decision, or the update period when none is named. False: it never pulled, the run ends. */
async function waitForPull(run: VerifyRun, lastPullBefore: { lastPullAt: number | null } | undefined): Promise<boolean> {
  const { opts } = run;
  const t = run.now();
  if (!opts.bouncer) {
    run.say(`...  wait     ${formatGoDuration(opts.updatePeriodMs)}, the bouncer's update period (name it with --bouncer to wait for its pull instead)`);
    await run.sleep(opts.updatePeriodMs);
    run.step({ step: 'wait', ok: true, ms: run.now() - t, detail: `waited the update period, ${formatGoDuration(opts.updatePeriodMs)}` });
    return true;
  }
  run.say(
    `...  wait     for bouncer '${opts.bouncer}' to pull (last pull ${fmtTime(lastPullBefore!.lastPullAt)}, giving up after ${formatGoDuration(opts.timeoutMs)})`,
  );
  let pulledAt: number | null = null;
  for (;;) {
    const lp = await run.deps.backend.lastPull(opts.bouncer);
    if (lp?.lastPullAt != null && lp.lastPullAt > run.committedAt) {
      pulledAt = lp.lastPullAt;
      break;
    }
    if (run.now() - t >= opts.timeoutMs) break;
    await run.sleep(opts.pollMs);
  }
  if (pulledAt === null) {
    run.step({ step: 'wait', ok: false, ms: run.now() - t, detail: `bouncer '${opts.bouncer}' did not pull within ${formatGoDuration(opts.timeoutMs)}` });
    run.end(
      'fail',
      `bouncer '${opts.bouncer}' did not pull decisions within ${formatGoDuration(opts.timeoutMs)}: it is not receiving them`,
      `run vigil doctor on the bouncer's host, and vigil issues list on the Local API host`,
    );
    return false;
  }
  run.step({
    step: 'wait',
    ok: true,
    ms: run.now() - t,
    detail: `bouncer '${opts.bouncer}' pulled at ${fmtTime(pulledAt)}, ${formatGoDuration(pulledAt - run.committedAt)} after the decision`,
  });
  return true;
}

/** 4. Request the URL as the test address until it is blocked or the settle time is over: the verdict. */
async function checkBlocked(run: VerifyRun, baselineStatus: number): Promise<void> {
  const { opts, result } = run;
  const blocked = (a: HttpAnswer) => challengeOrBlock(a, opts.type, baselineStatus);
  const t = run.now();
  let last: HttpAnswer | NetFailure;
  for (;;) {
    last = await run.requestUrl();
    run.checkAbort();
    if (last.ok && blocked(last)) break;
    if (run.now() - t >= opts.settleMs) break;
    await run.sleep(opts.pollMs);
  }
  const how = last.ok ? blocked(last) : undefined;
  if (how) {
    result.enforcedAfterMs = run.now() - run.committedAt;
    run.step({ step: 'check', ok: true, ms: run.now() - t, detail: `GET ${opts.url} as ${opts.ip} → ${describe(last, how)}` });
    run.end(
      'pass',
      `${opts.url} ${how.startsWith('status 403') ? 'blocks' : 'challenges'} ${opts.ip} with ${how}, ${formatGoDuration(result.enforcedAfterMs)} after the decision was added`,
    );
    return;
  }
  run.step({
    step: 'check',
    ok: false,
    ms: run.now() - t,
    detail: `GET ${opts.url} as ${opts.ip} → ${describe(last, last.ok ? blockedBy(last) : undefined)} (still not blocked after ${formatGoDuration(run.now() - t)})`,
  });
  run.end(
    'fail',
    last.ok
      ? `${opts.url} still serves ${opts.ip} (${last.status}) with a ${opts.type} decision in place${opts.bouncer ? ' that the bouncer has pulled' : ''}`
      : `${opts.url} stopped answering during the test (${last.kind})`,
    last.ok
      ? `the bouncer ${opts.bouncer ? 'has the decision but does not apply it' : 'did not apply the decision'}: check that it trusts X-Forwarded-For from this host (real_ip / trusted proxies), that it handles ${opts.type} decisions, and that it protects this URL${opts.bouncer ? '' : '; name it with --bouncer to wait for its pull'}`
      : 'check the web server',
  );
}

/** 5. Always remove the test decision, whatever happened before; a pass whose decision stays is a fail. */
async function removeTestDecision(run: VerifyRun): Promise<void> {
  const { opts, result, decisionId } = run;
  if (decisionId === undefined) return;
  const t = run.now();
  try {
    const removed = await run.deps.backend.removeDecision(decisionId, { ip: opts.ip, reason: run.reason, now: t });
    result.decisionRemoved = true;
    run.step({ step: 'remove', ok: true, ms: run.now() - t, detail: `test decision ${decisionId} ${removed ? 'removed' : 'was already gone'}` });
  } catch (err) {
    result.decisionRemoved = false;
    run.step({
      step: 'remove',
      ok: false,
      ms: run.now() - t,
      detail: `could not remove test decision ${decisionId}: ${(err as Error).message}; it expires by itself at the end of its ${formatGoDuration(opts.decisionDurationMs)}`,
    });
    if (result.verdict === 'pass')
      run.end('fail', `the test passed but its decision ${decisionId} could not be removed`, `remove it: vigil decisions delete --id ${decisionId}`);
  }
}

/** What an interrupted run left behind: nothing, or a decision that could not be removed. */
function abortedSummary({ decisionId, result }: VerifyRun): string {
  if (decisionId === undefined) return 'interrupted before the test decision was added';
  return result.decisionRemoved
    ? 'interrupted: the test decision was removed'
    : `interrupted: the test decision ${decisionId} could NOT be removed (remove it: vigil decisions delete --id ${decisionId})`;
}

const fmtTime = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString());
