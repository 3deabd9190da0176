/**
 * Doctor's first stage: the bouncer configuration file itself (present, readable, valid, the Local
 * API URL and key set, no unreplaced placeholder, permissions the bouncer's user can read).
 */
import path from 'node:path';
import { hasPlaceholder, type LapiSettings, type Located, type ParseError, type SourceFile } from '../core/doctor/bouncer-config.ts';
import { fail, maskSecret, ok, warn, type Finding } from '../core/doctor/finding.ts';
import { formatMode, lookupUser, ownerNames, readableBy, worldReadable } from '../core/doctor/permissions.ts';
import { parseDuration } from '../lib/duration.ts';
import { isFileError, type Host } from './host.ts';
import { WEB_FAMILIES, type DoctorOptions } from './options.ts';

export const at = (l: Located<unknown>) => `${l.path}${l.line ? `:${l.line}` : ''} (${l.key})`;

export interface LoadedFiles {
  main: SourceFile;
  local?: SourceFile;
  stats: Map<string, { mode: number; uid: number; gid: number }>;
}

/** A missing file is most often a typo: name what its folder holds before anything heavier. */
async function missingFileFix(host: Host, file: string): Promise<string> {
  const dir = path.posix.dirname(file);
  const list = await host.listDir(dir);
  const configs = isFileError(list) ? [] : list.filter((n) => /\.(ya?ml|conf)$/i.test(n)).sort();
  const holds = isFileError(list)
    ? `${dir} does not exist either`
    : configs.length > 0
      ? `${dir} holds ${configs.slice(0, 5).join(', ')}${configs.length > 5 ? ', …' : ''}`
      : `${dir} holds no .yaml or .conf file`;
  return `check the path for a typo (${holds}) and give the right one (vigil doctor FILE); if the bouncer's package shipped this file, reinstall it`;
}

export async function readConfigFiles(host: Host, file: string, findings: Finding[]): Promise<LoadedFiles | undefined> {
  const st = await host.stat(file);
  if (isFileError(st)) {
    findings.push(
      st.error === 'ENOENT'
        ? fail('file', 'file.present', `${file} does not exist`, {
            evidence: [`on ${host.where}`],
            fix: await missingFileFix(host, file),
          })
        : fail('file', 'file.present', `cannot inspect ${file}: ${st.message}`, { fix: 'run doctor as root (sudo vigil doctor)' }),
    );
    return undefined;
  }
  if (!st.isFile) {
    findings.push(fail('file', 'file.present', `${file} is not a regular file`, { fix: 'point --config at the bouncer configuration file' }));
    return undefined;
  }
  const stats = new Map([[file, st]]);
  const text = await host.readFile(file);
  if (isFileError(text)) {
    findings.push(
      fail('file', 'file.readable', `cannot read ${file}: ${text.message}`, {
        evidence: [`mode ${formatMode(st.mode)}, owner uid ${st.uid} gid ${st.gid}`],
        fix: 'run doctor as root (sudo vigil doctor): the bouncer configuration holds a key and is usually readable by root only',
      }),
    );
    return undefined;
  }
  findings.push(ok('file', 'file.present', `${file} present (${st.size} bytes, mode ${formatMode(st.mode)})`));
  let local: SourceFile | undefined;
  const localPath = `${file}.local`;
  const lst = await host.stat(localPath);
  if (!isFileError(lst)) {
    const lt = await host.readFile(localPath);
    if (isFileError(lt)) {
      findings.push(fail('file', 'file.readable', `cannot read ${localPath}: ${lt.message}`, { fix: 'run doctor as root (sudo vigil doctor)' }));
      return undefined;
    }
    stats.set(localPath, lst);
    local = { path: localPath, text: lt.text };
  }
  return { main: { path: file, text: text.text }, local, stats };
}

export function syntaxFinding(e: ParseError, format: string, files: LoadedFiles): Finding {
  const where = `${e.path}${e.line ? `:${e.line}${e.col ? `:${e.col}` : ''}` : ''}`;
  const src = e.path === files.local?.path ? files.local.text : files.main.text;
  const evidence: string[] = [];
  if (e.line) {
    const line = src.split(/\r?\n/)[e.line - 1];
    if (line !== undefined) {
      evidence.push(`${String(e.line).padStart(4)} | ${line}`);
      if (e.col) evidence.push(`${' '.repeat(4)} | ${' '.repeat(Math.max(0, e.col - 1))}^`);
    }
  }
  return fail('file', 'file.syntax', `${where}: ${e.message}`, {
    evidence,
    fix:
      format === 'yaml'
        ? 'fix the YAML at that place (indent with spaces, one "key: value" per line, no duplicate keys); the bouncer refuses to start until then'
        : 'write one KEY=VALUE per line; lines starting with # are comments',
  });
}

export function settingsFindings(s: LapiSettings, format: string, file: string): Finding[] {
  const out: Finding[] = [];
  const urlKeys = format === 'yaml' ? 'api_url (crowdsec_lapi_url, crowdsec_config.lapi_url)' : 'API_URL';
  const keyKeys = format === 'yaml' ? 'api_key (crowdsec_lapi_key, crowdsec_config.lapi_key)' : 'API_KEY';
  const keyFile = format === 'yaml' ? `${file}.local` : file;
  const keyLine = format === 'yaml' ? 'api_key: <key>' : 'API_KEY=<key>';
  const register = `register the bouncer on the Local API host (vigil bouncers add NAME, or cscli bouncers add NAME) and put the key in ${keyFile} as "${keyLine}", then restart the bouncer`;
  if (!s.url)
    out.push(
      fail('file', 'config.url', `no Local API URL: ${urlKeys} is not set`, {
        fix: `set ${format === 'yaml' ? 'api_url: http://127.0.0.1:8080/' : 'API_URL=http://127.0.0.1:8080'}`,
      }),
    );
  if (!s.key && !s.certAuth)
    out.push(
      fail('file', 'config.key', `no API key: ${keyKeys} is not set (nor a client certificate)`, {
        evidence: ['the bouncer stops with "config does not contain LAPI key or certificate"'],
        fix: register,
      }),
    );
  for (const p of s.placeholders) {
    const isCore = p === s.url || p === s.key || p.key === s.url?.key || p.key === s.key?.key;
    const placeholder = /\$\{[^}]+\}/.exec(p.value)![0];
    if (isCore) {
      out.push(
        fail('file', 'config.placeholder', `${p.key} is the unreplaced placeholder ${placeholder} (${p.path}${p.line ? `:${p.line}` : ''})`, {
          evidence: [
            'the bouncer sends it literally (observed with crowdsec-custom-bouncer 0.0.15, even with that variable in its environment) and the Local API answers 403',
            'packages fill it at install time only when cscli is on the same host',
          ],
          fix:
            p === s.url || p.key === s.url?.key
              ? `replace it with the Local API URL, e.g. ${format === 'yaml' ? 'http://127.0.0.1:8080/' : 'http://127.0.0.1:8080'}`
              : register,
        }),
      );
    } else {
      out.push(
        warn('file', 'config.placeholder', `${p.key} is the unreplaced placeholder ${placeholder} (${p.path}${p.line ? `:${p.line}` : ''})`, {
          fix: `set ${p.key} to a real value (in ${keyFile} to survive package upgrades)`,
        }),
      );
    }
  }
  if (s.updateFrequency && !hasPlaceholder(s.updateFrequency.value)) {
    const v = s.updateFrequency.value;
    const valid =
      format === 'yaml'
        ? (() => {
            try {
              return parseDuration(v, s.updateFrequency!.key) > 0;
            } catch {
              return false;
            }
          })()
        : /^\d+$/.test(v) && Number(v) > 0;
    if (!valid) {
      out.push(
        fail(
          'file',
          'config.update-frequency',
          `${s.updateFrequency.key} "${v}" is not a valid ${format === 'yaml' ? 'duration' : 'number of seconds'} (${at(s.updateFrequency)})`,
          {
            evidence: format === 'yaml' ? ['the bouncer logs "unable to parse duration" and exits with status 0, so systemd does not restart it'] : [],
            fix: format === 'yaml' ? `write a Go duration with its unit: ${s.updateFrequency.key}: 10s` : `${s.updateFrequency.key}=10`,
          },
        ),
      );
    }
  }
  if (s.url && (s.key || s.certAuth) && !out.some((f) => f.status === 'fail')) {
    const auth = s.key ? `key ${maskSecret(s.key.value)} from ${at(s.key)}` : 'client certificate (mTLS)';
    out.push(ok('file', 'config.keys', `Local API URL and credentials set: ${s.url.value}, ${auth}`));
  }
  return out;
}

export async function permissionFindings(opts: DoctorOptions, family: string, s: LapiSettings, files: LoadedFiles): Promise<Finding[]> {
  const out: Finding[] = [];
  const host = opts.host;
  const passwd = await host.readFile('/etc/passwd');
  const group = await host.readFile('/etc/group');
  const pw = isFileError(passwd) ? '' : passwd.text;
  const gr = isFileError(group) ? '' : group.text;
  const userName = opts.serviceUser ?? (WEB_FAMILIES.has(family) ? 'www-data' : 'root');
  const user = lookupUser(pw, gr, userName);
  const keyPath = s.key && !hasPlaceholder(s.key.value) ? s.key.path : undefined;
  for (const [file, st] of files.stats) {
    const holdsKey = file === keyPath;
    const owner = ownerNames(pw, gr, st);
    const desc = `${file}: mode ${formatMode(st.mode)} ${owner}`;
    if (user && !readableBy(st, user)) {
      out.push(
        fail('file', 'file.permissions', `${file} is not readable by ${userName}, the user the bouncer reads it as`, {
          evidence: [desc],
          fix: `sudo chown root:${userName} ${file} && sudo chmod 640 ${file}`,
        }),
      );
    } else if (holdsKey && worldReadable(st)) {
      out.push(
        warn('file', 'file.permissions', `${file} holds the API key and is readable by every local user`, {
          evidence: [desc],
          fix: userName === 'root' ? `sudo chmod 600 ${file}` : `sudo chown root:${userName} ${file} && sudo chmod 640 ${file}`,
        }),
      );
    } else {
      out.push(
        ok('file', 'file.permissions', `${desc}${user ? `, readable by ${userName}` : ''}${holdsKey ? ', not readable by others' : ''}`, {
          evidence: user ? [] : [`user ${userName} not found on ${host.where}: its access not checked`],
        }),
      );
    }
  }
  return out;
}
