import http from 'node:http';

export type Resp = { status: number; bytes: number; body: Buffer; ms: number };

/** One GET on a fresh connection, timed to its last byte (`keepBody` false: bytes counted, body dropped). */
export function get(url: string, headers: Record<string, string> = {}, keepBody = true): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (keepBody) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, body: Buffer.concat(chunks), ms: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(120_000, () => req.destroy(new Error('timeout')));
  });
}
