import type { Command } from 'commander';
import type { ConfigFlags, VigilConfig } from '../config/config.ts';
import type { Logger } from 'pino';
import { firstStartPasswordPrinter } from './io.ts';
import type { CommandContext } from './context.ts';
import type { RunFile } from '../app/run-file.ts';
import { listBouncers } from '../store/bouncers.ts';
import { reloadQueue } from '../lib/reload-queue.ts';

export function registerServeCommand(program: Command, ctx: CommandContext, globalFlags: () => ConfigFlags): void {
  program
    .command('serve')
    .description('run the Local API that bouncers pull decisions from (SIGHUP or `vigil reload` re-reads vigil.yaml)')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8080; env VIGIL_LISTEN)')
    .option('-t, --test', 'check what would stop serve from starting (the configuration, the store, the ports), print it and exit 0 or 1')
    // Flags of this command join the global ones, then the usual precedence applies.
    .action((o: { listen?: string; test?: boolean }) =>
      o.test ? testServe(ctx, { ...globalFlags(), listen: o.listen }) : runServe(ctx, { ...globalFlags(), listen: o.listen }),
    );
}

/** `vigil serve -t`: a failure throws a VigilError, main prints its one line and exits 1, as nginx -t does. */
async function testServe(ctx: CommandContext, flags: ConfigFlags): Promise<void> {
  const { loadConfig } = await import('../config/config.ts');
  const config = loadConfig({ flags, env: ctx.io.env, cwd: ctx.io.cwd });
  const { testServeConfig } = await import('../app/config-test.ts');
  for (const line of await testServeConfig(config, ctx.io.env, ctx.io.cwd)) ctx.io.stdout(`${line}\n`);
  ctx.io.stdout('vigil serve: configuration test successful\n');
}

async function runServe(ctx: CommandContext, flags: ConfigFlags): Promise<void> {
  const { loadConfig } = await import('../config/config.ts');
  const load = () => loadConfig({ flags, env: ctx.io.env, cwd: ctx.io.cwd });
  const config = load();
  // Loaded on demand: the server's modules (HTTP, logging, metrics) would slow every other command's start.
  const { createLogger, startServer } = await import('../app/serve.ts');
  const { reloadFromFile } = await import('../app/reload.ts');
  const runFile = await import('../app/run-file.ts');
  // A second serve must not create an empty store where a running one's file was deleted.
  runFile.refuseStoreLostUnderServe(config, ctx.io.env, ctx.io.cwd);
  const log = createLogger(config.logLevel, (line) => ctx.io.stdout(line));
  const stopSignal = ctx.io.stopSignal ?? new Promise<string>(() => {});
  // SIGHUP is a reload from the first moment (Node's default would end the process).
  const reloads = reloadQueue(async (running: { server: Awaited<ReturnType<typeof startServer>>; record: ServeRunRecord }) => {
    const outcome = await reloadFromFile(load, (next) => running.server.reload(next), log).catch((e: unknown) => {
      const message = `reload failed: ${(e as Error)?.message ?? String(e)}`;
      log.error({ err: e, reload: 'failed' }, message);
      return { applied: false, message };
    });
    const { run } = running.record;
    run.reload = { seq: run.reload.seq + 1, at: ctx.io.clock.now(), applied: outcome.applied, message: outcome.message };
    running.record.write();
  });
  const stopReload = ctx.io.onReload?.(reloads.ask);
  const starting = startServer(config, { clock: ctx.io.clock, log, env: ctx.io.env, firstStartPassword: firstStartPasswordPrinter(ctx.io) });
  // SIGTERM while starting: let the start finish (or fail), then stop at once.
  const first = await Promise.race([starting.then((server) => ({ server })), stopSignal.then((signal) => ({ signal }))]);
  if ('signal' in first) {
    stopReload?.();
    log.info({ signal: first.signal }, 'stopping while starting');
    await (await starting).close();
    log.info('stopped');
    return;
  }
  const { server } = first;
  await logListening(log, server, config);
  const record = serveRunRecord(runFile, config, ctx, server, log);
  record.write();
  reloads.started({ server, record });
  // Type=notify units: systemd starts what comes after Vigil once the Local API answers.
  const { notifyReady } = await import('../lib/sd-notify.ts');
  const notifyProblem = await notifyReady(ctx.io.env, `Local API listening on ${server.url}`);
  if (notifyProblem) log.warn(`could not tell systemd that vigil serve is ready (${notifyProblem}): a Type=notify unit will time out; use Type=exec`);
  const signal = await stopSignal;
  stopReload?.();
  log.info({ signal }, 'stopping: finishing requests in flight and writing buffered activity');
  await reloads.settled();
  await server.close();
  runFile.removeRunFile(record.path, process.pid);
  log.info('stopped');
}

type StartedServer = Awaited<ReturnType<typeof import('../app/serve.ts').startServer>>;

async function logListening(log: Logger, server: StartedServer, config: VigilConfig): Promise<void> {
  const bouncers = await listBouncers(server.store);
  log.info(
    {
      listen: server.url,
      metrics: server.metricsUrl,
      dashboard: server.web.dashboardUrl,
      store: server.store.description,
      dbFrom: config.dbSource,
      config: config.file,
      bouncers: bouncers.length,
    },
    `Vigil Local API listening on ${server.url}, store ${server.store.description} (db from ${config.dbSource})`,
  );
  if (bouncers.length === 0) {
    log.info(`no bouncer registered yet: add one with 'vigil bouncers add NAME' and put the key in the bouncer's configuration (api_url: ${server.url}/)`);
  }
}

interface ServeRunRecord {
  path: string;
  run: RunFile;
  write(): void;
}

/** The run file lets `vigil reload` find this process and read the outcome of its reload. */
function serveRunRecord(
  runFile: typeof import('../app/run-file.ts'),
  config: VigilConfig,
  ctx: CommandContext,
  server: StartedServer,
  log: Logger,
): ServeRunRecord {
  const runPath = runFile.runFilePath(config, ctx.io.env, ctx.io.cwd);
  const run: RunFile = {
    pid: process.pid,
    url: server.url,
    config: config.file,
    db: server.store.file,
    startedAt: ctx.io.clock.now(),
    reload: { seq: 0, at: null, applied: null, message: null },
  };
  const write = () => {
    try {
      runFile.writeRunFile(runPath, run);
    } catch (e) {
      log.warn(
        { runFile: runPath },
        `cannot write ${runPath} (${(e as Error).message}): 'vigil reload' will not find this server; kill -HUP ${process.pid} still reloads`,
      );
    }
  };
  return { path: runPath, run, write };
}
