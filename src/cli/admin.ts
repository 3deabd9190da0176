import type { Command } from 'commander';
import type { VigilConfig } from '../config/config.ts';
import { VigilError } from '../lib/errors.ts';
import { formatListen, type ListenAddress } from '../lib/listen-address.ts';
import { logLine } from './io.ts';
import type { CommandContext } from './context.ts';
import type { Store } from '../store/store.ts';

export function registerAdminCommands(program: Command, ctx: CommandContext): void {
  const admin = program.command('admin').description('the admin API (/admin/v1), its token, and the dashboard password');
  // A new secret replaces the old one at once; it is printed once, to stdout, and only its hash is kept.
  const newSecretCommand = (name: string, description: string, create: () => Promise<(store: Store) => Promise<string>>, said: string) =>
    admin
      .command(name)
      .description(description)
      .action(async () => {
        const make = await create();
        ctx.io.stdout(`${await ctx.withStore(make, { create: true })}\n`);
        ctx.io.stderr(logLine('info', said));
      });
  newSecretCommand(
    'token',
    'create or replace the admin token (printed once; only its hash is stored)',
    async () => (await import('../server/admin.ts')).rotateAdminToken,
    'admin token created; any previous one no longer works. Use it as: Authorization: Bearer <token>',
  );
  newSecretCommand(
    'password',
    'set a new dashboard password (printed once; only its scrypt hash is stored; sessions opened with the old one end)',
    async () => (await import('../web/credentials.ts')).resetDashboardPassword,
    'dashboard password set; the previous one no longer works',
  );
  admin
    .command('login-link')
    .description('print a one-time dashboard login link (works once, expires after --ttl; the login throttle does not close it)')
    .option('--ttl <duration>', 'how long the link works, at most 1h', '10m')
    .option('--url <base>', 'the dashboard as your browser reaches it, e.g. https://vigil.example.net (default: from listen / admin_listen)')
    .action(async (o: { ttl: string; url?: string }) => {
      const { createLoginLink, loginLinkUrl } = await import('../web/login-link.ts');
      const base = o.url ?? dashboardBase(ctx.config());
      const { token, expiresAt } = await ctx.withStore((store) => createLoginLink(store, ctx.io.clock.now(), o.ttl));
      ctx.io.stdout(`${loginLinkUrl(base, token)}\n`);
      ctx.io.stderr(logLine('info', `one-time dashboard login link, valid until ${new Date(expiresAt).toISOString()}; open it and press Log in`));
    });
}

/** Where the dashboard listens, as a browser on this host reaches it (all interfaces → loopback). */
function dashboardBase(config: VigilConfig): string {
  if (config.adminListen === null) throw new VigilError('E_USAGE', 'the dashboard is off (admin_listen: off): set admin_listen, or pass --url');
  const onLapi = config.adminListen === 'lapi';
  const at = onLapi ? config.listen : (config.adminListen as ListenAddress);
  const host = at.host === '0.0.0.0' ? '127.0.0.1' : at.host === '::' ? '::1' : at.host;
  return `${onLapi && config.tls ? 'https' : 'http'}://${formatListen({ host, port: at.port })}`;
}
