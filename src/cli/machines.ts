import { healthRules as rulesOf } from '../config/config.ts';
import { readWatchPollEvery } from '../store/watch-poll-every.ts';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { hashMachinePassword } from '../lib/password.ts';
import { VigilError } from '../lib/errors.ts';
import { formatListen } from '../lib/listen-address.ts';
import type { Machine } from '../core/model/records.ts';
import type { HealthRules } from '../core/health/types.ts';
import { machineStatus } from '../core/health/evaluate-machines.ts';
import { downtimeLookback, vigilDowntime } from '../health/lapi-alive.ts';
import { createMachine, deleteMachines, getMachine, listMachines, machinesToPrune, setMachinePassword, validateMachine } from '../store/machines.ts';
import { storeRole } from '../store/store-role.ts';
import { formatCredentials, formatMachineInspect, formatMachineList } from './format/machines.ts';
import { logLine } from './io.ts';
import { addInspectCommand, confirmOrAbort, outputOption, pruneDuration, usageError, type CommandContext, type OutputFormat } from './context.ts';

/**
 * `vigil machines …`: cscli's grammar for watchers (CrowdSec agents and cscli) on Vigil's Local API
 * (docs/reference/crowdsec-1.6-1.7.md §5, §8; wire protocol §5).
 */

/** cscli's --auto password: 64 characters from its alphabet (letters and digits). */
const PASSWORD_LENGTH = 64;
const PASSWORD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** bcrypt reads only the first 72 bytes: a longer password would be silently cut. */
const PASSWORD_MAX_BYTES = 72;
/** cscli machines prune's default (-d). */
const PRUNE_DEFAULT = '10m';

/** Names go in logs, tables, JWT claims and runbook commands: printable and short. */
export function validateMachineName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/.test(name)) {
    throw new VigilError('E_BAD_NAME', `machine name "${name}": use 1 to 128 letters, digits, '.', '_', '@', ':' or '-', starting with a letter or digit`);
  }
  return name;
}

function validatePassword(password: string): string {
  if (password === '') throw usageError('--password: give a non-empty password, or use --auto to generate one');
  if (Buffer.byteLength(password) > PASSWORD_MAX_BYTES) {
    throw usageError(`--password: at most ${PASSWORD_MAX_BYTES} bytes (bcrypt ignores the rest); use --auto for a random ${PASSWORD_LENGTH}-character one`);
  }
  if (/[\u0000-\u001f\u007f]/.test(password)) throw usageError('--password: no control characters (they break the credentials file)');
  return password;
}

export function generatePassword(): string {
  let out = '';
  for (let i = 0; i < PASSWORD_LENGTH; i++) out += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  return out;
}

/** A random machine id as cscli's --auto makes one without a name (32 hex characters). */
export function generateMachineId(): string {
  return randomBytes(16).toString('hex');
}

/** The URL an agent on this host uses: Vigil's listen address, a wildcard one made loopback. */
function defaultUrl(ctx: CommandContext): string {
  const listen = ctx.config().listen;
  const host = listen.host === '0.0.0.0' || listen.host === '' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  return `http://${formatListen({ host, port: listen.port })}/`;
}

function validateUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw usageError(`--url "${text}": use the Local API's address, e.g. http://127.0.0.1:8080/`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usageError(`--url "${text}": use http:// or https://, e.g. http://127.0.0.1:8080/`);
  if (u.username || u.password || u.search || u.hash) throw usageError(`--url "${text}": only scheme, host, port and path, e.g. http://127.0.0.1:8080/`);
  return u.href;
}

/** Where `-f FILE` writes, checked before anything is stored: its folder must exist and be a folder. */
function checkTarget(file: string, cwd: string): string {
  const target = path.resolve(cwd, file);
  const dir = path.dirname(target);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw usageError(`-f ${file}: folder ${dir} doesn't exist; create it, or use -f - to print the credentials`);
  }
  if (!st.isDirectory()) throw usageError(`-f ${file}: ${dir} is not a folder`);
  if (fs.existsSync(target) && fs.statSync(target).isDirectory())
    throw usageError(`-f ${file}: is a folder; name the file, e.g. ${path.join(file, 'local_api_credentials.yaml')}`);
  return target;
}

export function registerMachineCommands(program: Command, ctx: CommandContext): void {
  const machines = program.command('machines').alias('machine').description('manage machines (CrowdSec agents and cscli) that log in to the Local API');
  registerMachineAdd(machines, ctx);
  registerMachineList(machines, ctx);
  registerMachineDelete(machines, ctx);
  registerMachineValidate(machines, ctx);
  registerMachineInspect(machines, ctx);
  registerMachinePrune(machines, ctx);
}

function registerMachineAdd(machines: Command, ctx: CommandContext): void {
  machines
    .command('add [name]')
    .description('register a machine (validated) and print or write the credentials file its agent reads')
    .option('-p, --password <password>', 'machine password to log in to the Local API')
    .option('-a, --auto', 'generate a random password (and a random name when none is given)')
    .option(
      '-f, --file <file>',
      "write the credentials (url, login, password) to this file, e.g. /etc/crowdsec/local_api_credentials.yaml; '-' or none: print them",
    )
    .option('-u, --url <url>', "URL of the Local API for the agent (default: Vigil's listen address)")
    .option('--force', 'if the machine exists, give it this new password')
    .action(async (nameArg: string | undefined, o: { password?: string; auto?: boolean; file?: string; url?: string; force?: boolean }) => {
      if (nameArg === undefined && !o.auto) throw usageError('machines add: give a NAME, or --auto to generate one');
      if (o.password !== undefined && o.auto) throw usageError('--password and --auto: give one or the other');
      if (o.password === undefined && !o.auto) throw usageError('machines add: give --password P, or --auto to generate one');
      const name = nameArg === undefined ? generateMachineId() : validateMachineName(nameArg);
      const password = o.password !== undefined ? validatePassword(o.password) : generatePassword();
      const url = o.url !== undefined ? validateUrl(o.url) : defaultUrl(ctx);
      const target = o.file !== undefined && o.file !== '-' ? checkTarget(o.file, ctx.io.cwd) : null;
      const hash = await hashMachinePassword(password);
      const now = ctx.io.clock.now();
      await ctx.withStore(
        async (store) => {
          if ((await storeRole(store)) === 'watch') {
            throw new VigilError(
              'E_STORE_ROLE',
              `store ${store.description} is vigil watch's: add the machine in CrowdSec (cscli machines add ${name}), or pass --db with vigil serve's store`,
            );
          }
          const existing = await getMachine(store, name);
          if (existing && !o.force) throw new VigilError('E_MACHINE_EXISTS', `machine '${name}' already exists: add --force to give it a new password`);
          // As cscli: a new machine is validated; --force on an existing one changes only its password.
          if (existing) await setMachinePassword(store, name, hash, now);
          else await createMachine(store, { machineId: name, passwordHash: hash, now, isValidated: true });
          if (target) {
            try {
              // 0600, not cscli's 0644: the file holds a password.
              fs.writeFileSync(target, formatCredentials(url, name, password), { mode: 0o600 });
              fs.chmodSync(target, 0o600);
            } catch (e) {
              if (!existing) await deleteMachines(store, [name]);
              throw new VigilError(
                'E_USAGE',
                `-f ${o.file}: cannot write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was added`,
              );
            }
          }
        },
        { create: true },
      );
      ctx.io.stderr(logLine('info', `Machine '${name}' successfully ${o.force ? 'added or updated' : 'added'} to the local API`));
      if (target) ctx.io.stderr(logLine('info', `API credentials written to '${o.file}'`));
      else ctx.io.stdout(formatCredentials(url, name, password));
    });
}

function registerMachineList(machines: Command, ctx: CommandContext): void {
  machines
    .command('list')
    .alias('ls')
    .description('list machines with their last heartbeat')
    .addOption(outputOption())
    .action(async (o: { output: OutputFormat }) => {
      const list = await ctx.withStore((store) => listMachines(store));
      ctx.io.stdout(formatMachineList(list, o.output, ctx.io.clock.now()));
    });
}

function registerMachineDelete(machines: Command, ctx: CommandContext): void {
  machines
    .command('delete <names...>')
    .alias('remove')
    .description('delete machines (their agents can no longer log in)')
    .action(async (names: string[]) => {
      for (const n of names) validateMachineName(n);
      await ctx.withStore(async (store) => {
        // All or nothing: one unknown name changes nothing.
        for (const n of names) if (!(await getMachine(store, n))) throw noMachine(n);
        await deleteMachines(store, names);
      });
      for (const n of names) ctx.io.stderr(logLine('info', `machine '${n}' deleted successfully`));
    });
}

function registerMachineValidate(machines: Command, ctx: CommandContext): void {
  machines
    .command('validate <name>')
    .description('let a registered (pending) machine log in')
    .action(async (name: string) => {
      validateMachineName(name);
      await ctx.withStore(async (store) => {
        if (!(await getMachine(store, name))) throw noMachine(name);
        await validateMachine(store, name, ctx.io.clock.now());
      });
      ctx.io.stderr(logLine('info', `machine '${name}' validated successfully`));
    });
}

function registerMachineInspect(machines: Command, ctx: CommandContext): void {
  addInspectCommand(machines, 'show one machine in detail, with its health', async (name, output) => {
    validateMachineName(name);
    const now = ctx.io.clock.now();
    const { m, downtime, observedEveryMs } = await ctx.withStore(async (store) => ({
      m: await getMachine(store, name),
      downtime: await vigilDowntime(store, downtimeLookback(now, healthRules(ctx)), now),
      observedEveryMs: await readWatchPollEvery(store),
    }));
    if (!m) throw noMachine(name);
    ctx.io.stdout(formatMachineInspect(m, machineStatus(m, now, { ...healthRules(ctx), observedEveryMs }, downtime), output, now));
  });
}

function registerMachinePrune(machines: Command, ctx: CommandContext): void {
  machines
    .command('prune')
    .description('delete machines whose last heartbeat is older than --duration (never seen: since added), and pending ones as old')
    .option('-d, --duration <duration>', 'silent for at least this long', PRUNE_DEFAULT)
    .option('--not-validated-only', 'only machines that were never validated')
    .option('--force', 'do not ask for confirmation')
    .action(async (o: { duration: string; notValidatedOnly?: boolean; force?: boolean }) => {
      // cscli asks even with --force below 2 minutes; without a terminal to ask, refuse.
      const ms = pruneDuration(o.duration, o.force === true || o.notValidatedOnly === true, 'agents that are only briefly disconnected');
      const now = ctx.io.clock.now();
      await ctx.withStore(async (store) => {
        const cutoff = now - ms;
        const all = await listMachines(store);
        const stale = new Set((await machinesToPrune(store, cutoff)).map((m) => m.machineId));
        const chosen: Machine[] = all.filter((m) =>
          m.isValidated ? !o.notValidatedOnly && stale.has(m.machineId) : m.createdAt < cutoff || stale.has(m.machineId),
        );
        if (chosen.length === 0) {
          ctx.io.stdout('No machines to prune.\n');
          return;
        }
        ctx.io.stdout(formatMachineList(chosen, 'human', now));
        if (!o.force) {
          await confirmOrAbort(
            ctx.io,
            `You are about to PERMANENTLY remove the above ${chosen.length} machine(s). Continue?`,
            'prune needs a confirmation and there is no terminal to ask: nothing was deleted; run again with --force',
          );
        }
        const n = await deleteMachines(
          store,
          chosen.map((m) => m.machineId),
        );
        ctx.io.stderr(logLine('info', `successfully deleted ${n} machines`));
      });
    });
}

function noMachine(name: string): VigilError {
  return new VigilError('E_NO_MACHINE', `machine '${name}' doesn't exist (see: vigil machines list)`);
}

function healthRules(ctx: CommandContext): HealthRules {
  const h = ctx.config().health;
  return rulesOf(h);
}
