import type { Command } from 'commander';
import type { ConfigFlags } from '../config/config.ts';
import type { CommandContext } from './context.ts';

export function registerServeCommand(program: Command, ctx: CommandContext, globalFlags: () => ConfigFlags): void {
  program
    .command('serve')
    .description('run the Local API that bouncers pull decisions from')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8080; env VIGIL_LISTEN)')
    .action(async (o: { listen?: string }) => {
      // Flags of this command join the global ones, then the usual precedence applies.
      const flags = { ...globalFlags(), listen: o.listen };
      const { loadConfig } = await import('../config/config.ts');
      const config = loadConfig({ flags, env: ctx.io.env, cwd: ctx.io.cwd });
      // Loaded on demand: the server's modules (HTTP, logging, metrics) would slow every other command's start.
      const { createLogger, startServer } = await import('../app/serve.ts');
      const log = createLogger(config.logLevel, { write: (s: string) => (ctx.io.stdout(s), true) } as unknown as NodeJS.WritableStream);
      // The first-start dashboard password goes to stderr once, never through the log.
      const firstStartPassword = (password: string, url: string) =>
        ctx.io.stderr(
          `Dashboard ${url}: first-start password (shown once, stored hashed): ${password}\nLog in with it or with an admin token; set a new one with: vigil admin password\n`,
        );
      const server = await startServer(config, { clock: ctx.io.clock, log, env: ctx.io.env, firstStartPassword });
      const bouncers = await server.store.listBouncers();
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
      const signal = await (ctx.io.stopSignal ?? new Promise<string>(() => {}));
      log.info({ signal }, 'stopping: finishing requests in flight and writing buffered activity');
      await server.close();
      log.info('stopped');
    });
}
