/** `cscli bouncers list -o json` (and machines) through a command prefix (docker exec, kubectl exec, ssh…), run with execFile, never a shell. */
import { execFile } from 'node:child_process';
import { parseCscliBouncersJson } from '../../core/model/crowdsec-bouncer.ts';
import { parseCscliMachinesJson } from '../../core/model/crowdsec-machine.ts';
import type { MachineHealthInput } from '../../core/health/types.ts';
import { VigilError } from '../../lib/errors.ts';
import { SourceError, type BouncerSource, type SourceRead } from './source.ts';

export class CscliSource implements BouncerSource {
  readonly kind = 'cscli';
  readonly description: string;
  #prefix: string[];
  #argv: string[];
  #timeoutMs: number;
  #env: NodeJS.ProcessEnv | undefined;

  /** `prefix` already split into words (shell-words.ts), e.g. ['docker', 'exec', 'crowdsec', 'cscli']. */
  constructor(prefix: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
    if (prefix.length === 0) throw new VigilError('E_USAGE', '--cscli is empty: give the command that runs cscli, e.g. "docker exec crowdsec cscli"');
    this.#prefix = prefix;
    this.#argv = [...prefix, 'bouncers', 'list', '-o', 'json'];
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#env = opts.env;
    this.description = `'${this.#argv.join(' ')}'`;
  }

  async read(): Promise<SourceRead> {
    const [read, machines] = await Promise.all([this.#readBouncers(), this.#readMachines()]);
    return machines ? { ...read, machines } : read;
  }

  /** `PREFIX machines list -o json`; null when it fails (bouncers are still read: machines are extra). */
  #readMachines(): Promise<MachineHealthInput[] | null> {
    return new Promise((resolve) => {
      const p = this.#prefix;
      execFile(
        p[0]!,
        [...p.slice(1), 'machines', 'list', '-o', 'json'],
        { timeout: this.#timeoutMs, maxBuffer: 64 * 1024 * 1024, env: this.#env ?? process.env, windowsHide: true },
        (err, stdout) => {
          if (err) return resolve(null);
          try {
            resolve(parseCscliMachinesJson(String(stdout)));
          } catch {
            resolve(null);
          }
        },
      );
    });
  }

  #readBouncers(): Promise<SourceRead> {
    return new Promise((resolve, reject) => {
      execFile(
        this.#argv[0]!,
        this.#argv.slice(1),
        { timeout: this.#timeoutMs, maxBuffer: 256 * 1024 * 1024, env: this.#env ?? process.env, windowsHide: true },
        (err, stdout, stderr) => {
          if (err) {
            const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string; signal?: string };
            // cscli logs through logrus: its last line is the reason (`level=fatal msg="…"`).
            const last = String(stderr).trim().split('\n').filter(Boolean).pop() ?? '';
            const why =
              e.code === 'ENOENT'
                ? `command not found: ${this.#argv[0]}`
                : e.killed && e.signal
                  ? `no answer within ${this.#timeoutMs} ms (killed)`
                  : `exit ${e.code ?? e.signal}${last ? `: ${last.slice(0, 300)}` : ''}`;
            reject(new SourceError(`${this.description} failed (${why})`));
            return;
          }
          try {
            resolve({ bouncers: parseCscliBouncersJson(String(stdout), this.description), usageMetricsAt: new Map() });
          } catch (pe) {
            reject(pe instanceof SourceError ? pe : new SourceError((pe as Error).message));
          }
        },
      );
    });
  }

  /**
   * The Local API's listen address as CrowdSec itself reports it
   * (`cscli config show --key Config.API.Server.ListenURI`), for runbooks; null when it cannot tell.
   */
  lapiListenUri(): Promise<string | null> {
    return new Promise((resolve) => {
      const prefix = this.#prefix;
      execFile(
        prefix[0]!,
        [...prefix.slice(1), 'config', 'show', '--key', 'Config.API.Server.ListenURI'],
        { timeout: 10_000, env: this.#env ?? process.env },
        (err, stdout) => {
          const v = String(stdout ?? '').trim();
          resolve(!err && /^[\w.\-[\]:]+:\d+$/.test(v) ? v : null);
        },
      );
    });
  }

  async close(): Promise<void> {}
}
