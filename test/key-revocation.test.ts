import { describe, expect, it } from 'vitest';
import { useVigilServe } from './support/vigil-serve.ts';
import { eventually, until } from './support/wait.ts';

/**
 * The real `vigil serve` and the real CLI in other processes, on one SQLite store: a key the server
 * has trusted for seconds (answered from memory while the bouncers revision holds, src/server/auth.ts)
 * is refused soon after `vigil bouncers revoke` or `delete` changes the store behind its back.
 */
describe('a key revoked or deleted by the CLI while vigil serve answers it from memory', () => {
  const vigil = useVigilServe('vigil-revocation-');

  const pull = async (key: string) =>
    (await fetch(`${vigil().url}v1/decisions/stream`, { headers: { 'X-Api-Key': key, 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.25' } })).status;

  /** Pulls for 2 s (past the first second, when only the revision keeps the key trusted), all 200. */
  async function steadyPulls(key: string): Promise<void> {
    // The 2 s are the scenario (a key trusted from memory for a while), not a wait for an event.
    const end = Date.now() + 2000;
    while (Date.now() < end) {
      expect(await pull(key)).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Milliseconds from now until a pull with `key` is refused (403), polling every 20 ms. */
  async function msUntilRefused(key: string): Promise<number> {
    const from = Date.now();
    await until(
      'a pull with the key to be refused (403)',
      async () => ((await pull(key)) === 403 ? true : undefined),
      () => vigil().logs(),
      10_000,
      20,
    );
    return Date.now() - from;
  }

  it('refuses a revoked key within about a second, and accepts it again once unrevoked', async () => {
    const key = (await vigil().cli('bouncers', 'add', 'fw-revoked', '-o', 'raw')).trim();
    await steadyPulls(key);
    await vigil().cli('bouncers', 'revoke', 'fw-revoked');
    // The revision is read every 500 ms; trust in it lasts a second after the last reading.
    expect(await msUntilRefused(key)).toBeLessThan(2000);
    await vigil().cli('bouncers', 'unrevoke', 'fw-revoked');
    await eventually('the unrevoked key to be accepted again within 3 s', async () => (await pull(key)) === 200, 3000, 20);
  });

  it('refuses a deleted key within about a second', async () => {
    const key = (await vigil().cli('bouncers', 'add', 'fw-deleted', '-o', 'raw')).trim();
    await steadyPulls(key);
    await vigil().cli('bouncers', 'delete', 'fw-deleted');
    expect(await msUntilRefused(key)).toBeLessThan(2000);
  });
});
