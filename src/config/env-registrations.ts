import fs from 'node:fs';
import path from 'node:path';
import { validateApiKey } from '../core/bouncers/api-key.ts';
import { validateBouncerName } from '../core/bouncers/bouncer-name.ts';
import { VigilError } from '../lib/errors.ts';

/**
 * Bouncers and a machine registered from the environment at `vigil serve` start, as CrowdSec's
 * container does (docker_start.sh): `BOUNCER_KEY_<name>=<key>`, the key from a file with
 * `BOUNCER_KEY_<name>_FILE=<path>`, Docker/Swarm secrets `/run/secrets/bouncer_key_<name>`, and
 * `AGENT_USERNAME` + `AGENT_PASSWORD` (or `AGENT_PASSWORD_FILE`). Read and checked here (also by
 * `vigil serve -t`); written by app/env-registrations.ts. Keys and passwords are never in a message.
 */
export interface EnvBouncer {
  name: string;
  key: string;
  /** Where it came from, for the log: `BOUNCER_KEY_fw`, `BOUNCER_KEY_fw_FILE (/path)`, `/run/secrets/bouncer_key_fw`. */
  from: string;
}

export interface EnvMachine {
  name: string;
  password: string;
  from: string;
}

export interface EnvRegistrations {
  bouncers: EnvBouncer[];
  machine: EnvMachine | null;
}

/** Docker's and Swarm's secrets folder; `VIGIL_SECRETS_DIR` moves it (tests, other orchestrators). */
export const DEFAULT_SECRETS_DIR = '/run/secrets';
const PREFIX = 'BOUNCER_KEY_';
const SECRET_PREFIX = /^bouncer_key_/i;
/** bcrypt reads 72 bytes (lib/password.ts). */
const PASSWORD_MAX_BYTES = 72;

export function readEnvRegistrations(env: NodeJS.ProcessEnv): EnvRegistrations {
  const byName = new Map<string, EnvBouncer>();
  const add = (b: EnvBouncer) => {
    const before = byName.get(b.name);
    if (before && before.key !== b.key) {
      throw new VigilError('E_CONFIG', `bouncer '${b.name}' is given two different keys, by ${before.from} and ${b.from}: keep one`);
    }
    byName.set(b.name, before ?? b);
  };
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith(PREFIX) || value === undefined) continue;
    const isFile = variable.endsWith('_FILE');
    const name = variable.slice(PREFIX.length, isFile ? -'_FILE'.length : undefined);
    // An empty value registers nothing, as in CrowdSec's image (a compose file's `BOUNCER_KEY_X=${UNSET}`).
    if (name === '' || value === '') continue;
    checkName(name, variable);
    if (isFile) add({ name, key: keyFromFile(value, variable), from: `${variable} (${value})` });
    else add({ name, key: checkKey(value, variable), from: variable });
  }
  const secrets = env.VIGIL_SECRETS_DIR || DEFAULT_SECRETS_DIR;
  for (const entry of listDir(secrets)) {
    if (!SECRET_PREFIX.test(entry)) continue;
    const name = entry.replace(SECRET_PREFIX, '');
    const file = path.join(secrets, entry);
    if (name === '' || !fs.statSync(file).isFile()) continue;
    checkName(name, file);
    add({ name, key: keyFromFile(file, file), from: file });
  }
  return { bouncers: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)), machine: readMachine(env) };
}

function readMachine(env: NodeJS.ProcessEnv): EnvMachine | null {
  const name = env.AGENT_USERNAME ?? '';
  const file = env.AGENT_PASSWORD_FILE ?? '';
  const given = env.AGENT_PASSWORD ?? '';
  if (name === '' && given === '' && file === '') return null;
  if (name === '')
    throw new VigilError('E_CONFIG', `${given !== '' ? 'AGENT_PASSWORD' : 'AGENT_PASSWORD_FILE'} is set but AGENT_USERNAME is not: set both, or neither`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/.test(name)) {
    throw new VigilError('E_CONFIG', `AGENT_USERNAME "${name}": use 1 to 128 letters, digits, '.', '_', '@', ':' or '-', starting with a letter or digit`);
  }
  if (given !== '' && file !== '') throw new VigilError('E_CONFIG', 'AGENT_PASSWORD and AGENT_PASSWORD_FILE are both set: keep one');
  if (given === '' && file === '')
    throw new VigilError('E_CONFIG', 'AGENT_USERNAME is set but neither AGENT_PASSWORD nor AGENT_PASSWORD_FILE: give the password');
  const password = file !== '' ? secretFromFile(file, 'AGENT_PASSWORD_FILE') : given;
  const from = file !== '' ? `AGENT_USERNAME + AGENT_PASSWORD_FILE (${file})` : 'AGENT_USERNAME + AGENT_PASSWORD';
  if (password === '' || Buffer.byteLength(password) > PASSWORD_MAX_BYTES || /[\u0000-\u001f\u007f]/.test(password)) {
    throw new VigilError('E_CONFIG', `${from}: the password must be 1 to ${PASSWORD_MAX_BYTES} bytes without control characters`);
  }
  return { name, password, from };
}

function checkName(name: string, where: string): void {
  try {
    validateBouncerName(name);
  } catch (e) {
    throw new VigilError('E_CONFIG', `${where}: ${(e as Error).message}`);
  }
}

function checkKey(key: string, where: string): string {
  try {
    return validateApiKey(key, where);
  } catch (e) {
    throw new VigilError('E_CONFIG', (e as Error).message);
  }
}

function keyFromFile(file: string, where: string): string {
  return checkKey(secretFromFile(file, where), `${where}: the key in ${file}`);
}

/** A secret file's content without its trailing newline (what `echo KEY > file` writes). */
function secretFromFile(file: string, where: string): string {
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new VigilError(
      'E_CONFIG',
      `${where}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); mount the secret or unset the variable`,
    );
  }
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}
