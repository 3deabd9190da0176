import type { Command } from 'commander';
import { VigilError } from '../lib/errors.ts';
import { storeRole } from '../store/store-role.ts';
import { logLine } from './io.ts';
import { outputOption, type CommandContext, type OutputFormat } from './context.ts';

interface ExportOptions {
  crowdsecConfig?: string;
  crowdsecDb?: string;
  dbUrl?: string;
  toFile?: string;
  dryRun?: boolean;
  output: OutputFormat;
}

/**
 * `vigil export crowdsec`: the way back from `vigil import crowdsec`. With `vigil serve` and
 * CrowdSec's Local API both stopped, CrowdSec's database is made to hold what Vigil holds.
 */
export function registerExportCommands(program: Command, ctx: CommandContext): void {
  const exports = program.command('export').description("write Vigil's data into another system");
  exports
    .command('crowdsec')
    .description(
      "go back to CrowdSec: write Vigil's active decisions (with their alerts), deletions, bouncers (their keys keep working) and machines (their passwords keep working) into CrowdSec's database",
    )
    .option('--crowdsec-config <file>', "CrowdSec's config.yaml, for its db_config (default /etc/crowdsec/config.yaml)")
    .option('--crowdsec-db <url>', "CrowdSec's database instead: sqlite:PATH, postgres://USER:PASSWORD@HOST:5432/DB or mysql://USER:PASSWORD@HOST:3306/DB")
    .option('--db-url <url>', 'the same as --crowdsec-db')
    .option(
      '--to-file <file>',
      'no database: write cscli decisions import files (FILE for Ip, FILE.<scope>.json for others) and FILE.sh that deletes and imports in order',
    )
    .option('--dry-run', 'say what would be written, write nothing')
    .addOption(outputOption())
    .action(async (o: ExportOptions) => {
      const url = o.crowdsecDb ?? o.dbUrl;
      const given = [o.crowdsecConfig !== undefined, url !== undefined, o.toFile !== undefined].filter(Boolean).length;
      if (given > 1 || (o.crowdsecDb !== undefined && o.dbUrl !== undefined)) {
        throw new VigilError('E_USAGE', '--crowdsec-config, --crowdsec-db (--db-url) and --to-file: give one of them');
      }
      if (!o.dryRun) {
        // Decisions made after the export would be lost again: the store must stop changing first.
        const { servePidOn } = await import('../app/run-file.ts');
        const pid = servePidOn(ctx.config(), ctx.io.env, ctx.io.cwd);
        if (pid !== null) {
          throw new VigilError(
            'E_USAGE',
            `vigil serve (pid ${pid}) still runs on this store: stop it first (systemctl stop vigil), so nothing changes after the export; --dry-run works meanwhile`,
          );
        }
      }
      const now = ctx.io.clock.now();
      const report = await ctx.withStore(
        async (store) => {
          if ((await storeRole(store)) === 'watch') {
            throw new VigilError(
              'E_STORE_ROLE',
              `store ${store.description} is vigil watch's (a mirror of CrowdSec's bouncers): export vigil serve's store (--db)`,
            );
          }
          if (o.toFile !== undefined) {
            const { exportCrowdsecToFile } = await import('../watch/crowdsec-export.ts');
            return await exportCrowdsecToFile(store, o.toFile, now, { dryRun: o.dryRun });
          }
          const { DEFAULT_CROWDSEC_CONFIG, parseCrowdsecDbUrl, readCrowdsecConfig } = await import('../watch/crowdsec-config.ts');
          const { crowdsecTarget } = await import('../watch/crowdsec-target.ts');
          const { exportCrowdsec } = await import('../watch/crowdsec-export.ts');
          const db =
            url !== undefined
              ? parseCrowdsecDbUrl(url, o.dbUrl !== undefined ? '--db-url' : '--crowdsec-db')
              : readCrowdsecConfig(o.crowdsecConfig ?? DEFAULT_CROWDSEC_CONFIG, process.env).db;
          const target = crowdsecTarget(db);
          try {
            return await exportCrowdsec(store, target, now, { dryRun: o.dryRun });
          } finally {
            await target.close();
          }
        },
        { create: false },
      );
      if (o.output === 'json') {
        ctx.io.stdout(`${JSON.stringify({ dry_run: o.dryRun === true, ...report }, null, 2)}\n`);
        return;
      }
      const verb = o.dryRun ? 'would export' : 'exported';
      for (const line of report.notes) ctx.io.stderr(logLine('warning', line));
      for (const command of report.allowlistCommands) ctx.io.stdout(`${command}\n`);
      const file = report.deleteScript !== undefined ? `, ${report.deletions} deletion(s) in ${report.deleteScript}` : '';
      ctx.io.stderr(
        logLine(
          'info',
          `${verb} to ${report.to}: ${report.decisions} decision(s) under ${report.alerts} alert(s), ${report.kept} already there, ${report.expired} expired there (deleted on Vigil)${file}, ${report.bouncersAdded.length + report.bouncersUpdated.length} bouncer(s) with their keys, ${report.machinesAdded.length + report.machinesUpdated.length} machine(s) with their passwords`,
        ),
      );
    });
}
