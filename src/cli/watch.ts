import type { Command } from 'commander';
import { VigilError } from '../lib/errors.ts';
import type { CommandContext } from './context.ts';
import type { ConfigFlags, VigilConfig } from '../config/config.ts';
import type { WatchFlags, WatchSettings } from '../watch/watch-config.ts';
import { firstStartPasswordPrinter } from './io.ts';
import { healthIssues } from '../store/health-issues.ts';
import type { HealthRules } from '../core/health/types.ts';
import type { Logger } from 'pino';
import type { RunningWatch } from '../watch/start-watch.ts';
import { reloadQueue } from '../lib/reload-queue.ts';

/** The flags `vigil watch` shares with its settings, and --once. */
interface WatchOptions extends WatchFlags {
  once?: boolean;
}

export function registerWatchCommand(program: Command, ctx: CommandContext, globalFlags: () => ConfigFlags): void {
  program
    .command('watch')
    .description("watch an existing CrowdSec's bouncers with Vigil's health engine (reads only; changes nothing in CrowdSec)")
    .option('--crowdsec-config <file>', "CrowdSec's config.yaml, for its db_config and Local API address (default /etc/crowdsec/config.yaml)")
    .option('--crowdsec-db <url>', "CrowdSec's database instead: sqlite:PATH, postgres://USER:PASSWORD@HOST:5432/DB or mysql://USER:PASSWORD@HOST:3306/DB")
    .option('--cscli <command>', 'read through `cscli bouncers list -o json` run with this prefix, e.g. "docker exec crowdsec cscli"')
    .option('--poll-every <duration>', "how often to read, probe CrowdSec's Local API and evaluate (default 10s)")
    .option('--listen <host:port>', 'admin API, /metrics and /health (default 127.0.0.1:6070; off disables)')
    .option('--lapi-url <url>', "CrowdSec's Local API URL as bouncers use it, for runbooks (default from its config, else http://127.0.0.1:8080/)")
    .option('--deployment <where>', 'where CrowdSec runs, for runbooks: host, docker or kubernetes (default from --cscli, else host)')
    .option(
      '--access-log <path>',
      "CrowdSec's Local API access log, for pulls, cadence, refused keys and restarts: a path, journald[:UNIT] or off (default from CrowdSec's config)",
    )
    .option(
      '--prometheus-url <url>',
      "CrowdSec's Prometheus endpoint, e.g. http://127.0.0.1:6060/metrics, or off (default from CrowdSec's config when enabled)",
    )
    .option('--once', 'read and evaluate once, print the open issues, and exit (1 when the source cannot be read)')
    .action(async (o: WatchOptions) => {
      const config = ctx.config();
      // Never a new store where a running serve's file was deleted (issue 27).
      (await import('../app/run-file.ts')).refuseStoreLostUnderServe(config, ctx.io.env, ctx.io.cwd);
      const { resolveWatchSettings } = await import('../watch/watch-config.ts');
      const settings = resolveWatchSettings({
        flags: {
          crowdsecConfig: o.crowdsecConfig,
          crowdsecDb: o.crowdsecDb,
          cscli: o.cscli,
          pollEvery: o.pollEvery,
          listen: o.once ? 'off' : o.listen,
          lapiUrl: o.lapiUrl,
          deployment: o.deployment,
          accessLog: o.accessLog,
          prometheusUrl: o.prometheusUrl,
        },
        file: config.watch,
        configFile: config.file,
        env: ctx.io.env,
        cwd: ctx.io.cwd,
      });
      // Loaded on demand, as `serve` does: HTTP, logging and database drivers would slow every other command.
      const { startWatch } = await import('../watch/start-watch.ts');
      const { createLogger } = await import('../lib/logger.ts');
      if (o.once) return await watchOnce(ctx, config, settings, startWatch, createLogger);
      const log = createLogger(config.logLevel, (line) => ctx.io.stdout(line));
      // The first-start dashboard password goes to stderr once, never through the log (as serve does).
      const firstStartPassword = firstStartPasswordPrinter(ctx.io);
      const stopReload = await reloadOnSignal(ctx, { config, flags: globalFlags() }, settings, log);
      const running = await startWatch(config, settings, { clock: ctx.io.clock, log, env: ctx.io.env, firstStartPassword });
      stopReload.started(running);
      log.info(
        { listen: running.url, dashboard: running.dashboardUrl, store: running.store.description, config: config.file },
        `Vigil watch running${running.url ? `, admin API and /metrics on ${running.url}, dashboard ${running.dashboardUrl}` : ''}, store ${running.store.description}`,
      );
      const signal = await (ctx.io.stopSignal ?? new Promise<string>(() => {}));
      log.info({ signal }, 'stopping');
      stopReload.stop();
      await running.close();
      log.info('stopped');
    });
}

/**
 * SIGHUP re-reads vigil.yaml, as for serve (Node's default would end the process): log_level, health
 * rules and notifications apply at once; the `watch:` section, the store and the listener need a
 * restart and are named.
 */
async function reloadOnSignal(ctx: CommandContext, boot: { config: VigilConfig; flags: ConfigFlags }, settings: WatchSettings, log: Logger) {
  const { loadConfig } = await import('../config/config.ts');
  const { applyReload, reloadFromFile } = await import('../app/reload.ts');
  let current = boot.config;
  const reloads = reloadQueue(async (watch: RunningWatch) => {
    // Watch evaluates once per poll, never on a timer of its own: evaluate_every does not apply here.
    const health = {
      reconfigure: (rules: HealthRules) => watch.watcher.reconfigure({ ...rules, observedEveryMs: settings.pollEveryMs }),
      start() {},
      stop() {},
    };
    const apply = async (next: VigilConfig) => {
      const outcome = await applyReload({
        current,
        next,
        log,
        env: ctx.io.env,
        health,
        notifications: watch.notifications,
        alsoNeedsRestart: [['watch', (c) => c.watch]],
      });
      if (outcome.applied) current = { ...next, ...outcome.kept, watch: current.watch };
      return outcome;
    };
    const load = () => loadConfig({ flags: boot.flags, env: ctx.io.env, cwd: ctx.io.cwd });
    await reloadFromFile(load, apply, log).catch((e: unknown) =>
      log.error({ err: e, reload: 'failed' }, `reload failed: ${(e as Error)?.message ?? String(e)}`),
    );
  });
  const stop = ctx.io.onReload?.(reloads.ask);
  return {
    started: reloads.started,
    stop: () => stop?.(),
  };
}

/** `--once`: read and evaluate once, print the open issues, exit non-zero when the source could not be read. */
async function watchOnce(
  ctx: CommandContext,
  config: VigilConfig,
  settings: WatchSettings,
  startWatch: typeof import('../watch/start-watch.ts').startWatch,
  createLogger: typeof import('../lib/logger.ts').createLogger,
): Promise<void> {
  // One run prints its result (the issues table, or one fatal line); log lines would only repeat it.
  const log = createLogger('silent', (line) => ctx.io.stderr(line));
  const running = await startWatch(config, settings, { clock: ctx.io.clock, log, env: ctx.io.env, poll: false, oneShot: true });
  try {
    const result = await running.watcher.pollOnce();
    // A one-shot run (cron) sends what it raised before exiting.
    await running.notifications.flush();
    const { formatIssueList } = await import('./issues.ts');
    const { flappingKeys } = await import('../health/engine.ts');
    const now = ctx.io.clock.now();
    const open = await healthIssues(running.store, { includeResolved: false });
    ctx.io.stdout(formatIssueList(open, await flappingKeys(running.store, now), 'human', now));
    if (result.read === 'failed') throw new VigilError('E_WATCH_SOURCE', result.error ?? "cannot read CrowdSec's bouncers");
  } finally {
    await running.close();
  }
}
