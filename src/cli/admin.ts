import type { Command } from 'commander';
import { logLine } from './io.ts';
import type { CommandContext } from './context.ts';

export function registerAdminCommands(program: Command, ctx: CommandContext): void {
  const admin = program.command('admin').description('the admin API (/admin/v1), its token, and the dashboard password');
  admin
    .command('token')
    .description('create or replace the admin token (printed once; only its hash is stored)')
    .action(async () => {
      const { rotateAdminToken } = await import('../server/admin.ts');
      const token = await ctx.withStore((store) => rotateAdminToken(store), { create: true });
      ctx.io.stdout(`${token}\n`);
      ctx.io.stderr(logLine('info', 'admin token created; any previous one no longer works. Use it as: Authorization: Bearer <token>'));
    });
  admin
    .command('password')
    .description('set a new dashboard password (printed once; only its scrypt hash is stored; sessions opened with the old one end)')
    .action(async () => {
      const { resetDashboardPassword } = await import('../web/credentials.ts');
      const password = await ctx.withStore((store) => resetDashboardPassword(store), { create: true });
      ctx.io.stdout(`${password}\n`);
      ctx.io.stderr(logLine('info', 'dashboard password set; the previous one no longer works'));
    });
}
