import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, loggedProcess, type LoggedProcess } from './processes.ts';
import { until } from './wait.ts';

/** A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, scripts/install-alertmanager.sh) on loopback. */
export interface AlertmanagerInstance {
  /** `http://127.0.0.1:PORT` */
  url: string;
  proc: LoggedProcess;
  // biome-ignore lint/suspicious/noExplicitAny: tests read Alertmanager's answers as it documents them
  get(pathAndQuery: string): Promise<any>;
  // biome-ignore lint/suspicious/noExplicitAny: idem
  post(pathAndQuery: string, body: unknown): Promise<any>;
  stop(): Promise<void>;
}

/**
 * Starts Alertmanager with its own config (one route grouping by `groupBy`, a receiver with no
 * integration) and data directory, clustering off, on a free loopback port; resolves once
 * `/-/ready` answers.
 */
export async function startAlertmanager(groupBy: string[]): Promise<AlertmanagerInstance> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-am-'));
  const port = await freePort();
  fs.writeFileSync(
    path.join(dir, 'alertmanager.yml'),
    ['route:', '  receiver: sink', `  group_by: [${groupBy.join(', ')}]`, '  group_wait: 1h', 'receivers:', '  - name: sink', ''].join('\n'),
  );
  const proc = loggedProcess('prometheus-alertmanager', [
    `--config.file=${path.join(dir, 'alertmanager.yml')}`,
    `--storage.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ]);
  proc.spawn();
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await proc.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(
      'Alertmanager to answer /-/ready',
      async () => {
        if (!proc.running()) throw new Error(`Alertmanager exited during startup; log:\n${proc.logs().slice(-4000)}`);
        return (
          (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) }).then(
            (r) => r.ok,
            () => false,
          )) || undefined
        );
      },
      () => proc.logs().slice(-4000),
      30_000,
      100,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  const call = async (method: string, p: string, body?: unknown) => {
    const r = await fetch(`${url}${p}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`Alertmanager ${method} ${p}: HTTP ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return { url, proc, get: (p) => call('GET', p), post: (p, b) => call('POST', p, b), stop };
}
