import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDbUrl } from '../support/databases.ts';
import { makeSelfSignedCert } from '../support/test-pki.ts';
import { eventually } from '../support/wait.ts';
import { openIdle, type IdleKind } from './idle-sockets.ts';
import { pull, startVigilChild } from './vigil-child.ts';
import { useCleanups } from '../support/cleanups.ts';

/**
 * Issue 27 item 2: on the TLS listener, idle connections were held 120 s (Node's handshake and
 * idle timeouts), not cut by the header timeout the README promises. Each kind must be closed by
 * the server within limits.header_timeout (2 s here) of its opening, measured on the client side,
 * while a bouncer's pull still answers. Loopback only: 127.0.0.2–127.0.0.9 attack, 127.0.0.1 pulls.
 */
const HEADER_TIMEOUT_MS = 2_000;
/**
 * The server checks its deadlines four times per timeout (0.5 s here); the rest is for a shared,
 * loaded machine (a busy listener takes sockets from its backlog late). Before the fix: 120 s.
 */
const SLACK_MS = 2_500;
const FROM = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9'];

describe('idle connections on the TLS listener', () => {
  const cleanups = useCleanups();

  it('200 silent, 100 dribbling a ClientHello, 100 handshaken and silent: each closed within the header timeout; pulls still answer', async () => {
    const db = await freshDbUrl('sqlite');
    cleanups.push(db.cleanup);
    const dir = cleanups.tempDir('vigil-tls-idle-');
    const cert = makeSelfSignedCert(dir);
    const vigil = await startVigilChild({
      db: db.url,
      configLines: ['limits:', '  header_timeout: 2s', 'tls:', `  cert_file: ${cert.certPath}`, `  key_file: ${path.join(dir, 'key.pem')}`],
    });
    cleanups.push(() => vigil.stop());
    expect(vigil.url).toMatch(/^https:/);

    // 2 silent : 1 dribbling : 1 handshaken, interleaved, so 200 / 100 / 100 of 400.
    const kinds: IdleKind[] = ['silent', 'dribble', 'silent', 'handshaken'];
    const idle = await openIdle(vigil.port, 400, { from: FROM, kinds, dribbleEveryMs: 5_000 });
    cleanups.push(() => idle.destroy());
    const count = (k: IdleKind) => idle.sockets.filter((s) => s.kind === k && s.connectedAt !== null).length;
    expect([count('silent'), count('dribble'), count('handshaken')]).toEqual([200, 100, 100]);

    // A bouncer's pull answers while they are open.
    const r = await pull(vigil.port, { ca: cert.cert, timeoutMs: 3_000 });
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(1_000);

    // Bounded wait: a socket whose SYN the busy listener dropped connects a second or three late.
    await eventually('the server to close all 400', () => idle.closed() === 400, 15_000, 100);
    for (const kind of ['silent', 'dribble', 'handshaken'] as const) {
      const mine = idle.sockets.filter((s) => s.kind === kind);
      // Not before the timeout (the handshaken ones were let in), and not much after it.
      expect(Math.min(...mine.map((s) => s.closedAt! - s.startedAt)), kind).toBeGreaterThanOrEqual(HEADER_TIMEOUT_MS - 50);
      expect(Math.max(...mine.map((s) => s.closedAt! - s.connectedAt!)), kind).toBeLessThan(HEADER_TIMEOUT_MS + SLACK_MS);
    }
    const again = await pull(vigil.port, { ca: cert.cert, timeoutMs: 3_000 });
    expect(again.status).toBe(200);
  }, 40_000);
});
