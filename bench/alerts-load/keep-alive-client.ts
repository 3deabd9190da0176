import http from 'node:http';

export interface Answer {
  ms: number;
  status: number;
  body: string;
  bytes: number;
}

export type Send = (agent: http.Agent, method: string, path: string, headers: Record<string, string>, body?: string, keepBody?: boolean) => Promise<Answer>;

/**
 * Requests to `base` over the given keep-alive pool; never rejects (a failure answers status 0), and
 * a request not answered within `timeoutMs` fails. With `slowLog`, every request slower than 30 ms
 * adds a line: monotonic send and end times (ns, the clock a server's --cpu-prof uses), ms, method,
 * path and when the response headers came.
 */
export function keepAliveClient(base: string, timeoutMs: number, slowLog?: string[]): Send {
  return (agent, method, path, headers, body, keepBody = true) =>
    new Promise((resolve) => {
      const t = performance.now();
      const t0 = process.hrtime.bigint();
      let headersMs = 0;
      const req = http.request(`${base}${path}`, { method, agent, headers, timeout: timeoutMs }, (res) => {
        headersMs = performance.now() - t;
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (d: Buffer) => {
          bytes += d.length;
          if (keepBody) chunks.push(d);
        });
        res.on('end', () => {
          const ms = performance.now() - t;
          if (slowLog && ms > 30)
            slowLog.push(`${t0} ${process.hrtime.bigint()} ${ms.toFixed(1)} ${method} ${path.slice(0, 30)} headers=${headersMs.toFixed(1)}`);
          resolve({ ms, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), bytes });
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve({ ms: performance.now() - t, status: 0, body: '', bytes: 0 }));
      req.end(body);
    });
}
