import type { Command } from 'commander';
import { createLogger } from '../lib/logger.ts';
import type { CommandContext } from './context.ts';
import { DEFAULT_FORWARD_AUTH_CONFIG, loadForwardAuthConfig } from '../remediation/forward-auth/config.ts';
import { startForwardAuth } from '../remediation/forward-auth/server.ts';
import { BOUNCER_USER_AGENT } from '../remediation/version.ts';
import { redactUrl } from '../lib/redact-url.ts';

/**
 * `vigil bouncer forward-auth`: Vigil's own bouncer as a daemon for reverse proxies. `bouncer` is
 * the `bouncers` command's alias (as in cscli), so the daemon hangs under it: both spellings work.
 */
export function registerBouncerDaemonCommands(program: Command, ctx: CommandContext): void {
  const parent = program.commands.find((c) => c.name() === 'bouncers' || c.aliases().includes('bouncer')) ?? program.command('bouncer');
  parent
    .command('forward-auth')
    .description('answer nginx auth_request, Traefik forwardAuth and Caddy forward_auth from the Local API decisions')
    .option('-c, --config <file>', `configuration file (default ${DEFAULT_FORWARD_AUTH_CONFIG})`)
    .option('--listen <host:port>', 'address to listen on (overrides listen: in the file)')
    .option('-t, --test', 'check the configuration and exit')
    .action(async (o: { config?: string; listen?: string; test?: boolean }) => {
      // The program's own -c/--config may have taken the value when given after the subcommand.
      const file = o.config ?? program.opts<{ config?: string }>().config ?? DEFAULT_FORWARD_AUTH_CONFIG;
      const { resolve } = await import('node:path');
      const config = loadForwardAuthConfig(resolve(ctx.io.cwd, file), { env: ctx.io.env, listen: o.listen });
      if (o.test) {
        ctx.io.stdout(`configuration ${config.file} is valid\n`);
        return;
      }
      const log = createLogger(config.logLevel, (line) => ctx.io.stdout(line), { svc: 'vigil-forward-auth' });
      const server = await startForwardAuth(config, { log, clock: ctx.io.clock });
      const o2 = server.bouncer.options;
      log.info(
        { listen: server.url, lapi: redactUrl(new URL(o2.apiUrl).href), mode: o2.mode, config: config.file, userAgent: BOUNCER_USER_AGENT },
        `Vigil forward-auth listening on ${server.url}; Local API ${redactUrl(new URL(o2.apiUrl).href)} (${o2.mode}${o2.mode === 'stream' ? `, every ${o2.updateFrequencyMs / 1000}s` : ''}); health at ${server.url}/health`,
      );
      const signal = await (ctx.io.stopSignal ?? new Promise<string>(() => {}));
      log.info({ signal }, 'stopping');
      await server.close();
      log.info('stopped');
    });
}
