import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAlertsPayload } from '../../core/alerts/payload.ts';
import { agentAlert, heavyEvents, importedDecisions } from '../../../test/support/heavy-alerts.ts';
import { AlertParser } from './alert-parser.ts';

/** Alert `n` with `decisions` imported bans and one 600-byte event. */
const alert = (n: number, decisions: number) => agentAlert(n, { decisions: importedDecisions(n, decisions), events: heavyEvents(1, 600) });

/** The body in socket-sized chunks, as the body guard keeps it. */
function chunked(body: Buffer, size = 64 * 1024): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size));
  return out;
}

describe('alert parser worker', () => {
  const parser = new AlertParser();
  afterAll(() => parser.close());

  it('checks a big push off the event loop and hands back exactly what the checks on the loop give', async () => {
    const body = Buffer.from(JSON.stringify(Array.from({ length: 300 }, (_, n) => alert(n, 20))));
    const got = await parser.parse(chunked(body), false, 64 * 1024 * 1024);
    expect(got).toEqual(parseAlertsPayload(JSON.parse(body.toString('utf8'))));
    expect(got.ok && got.alerts.length).toBe(300);
  });

  it('inflates gzip, refusing one that does not inflate or inflates past the cap', async () => {
    const body = Buffer.from(JSON.stringify([alert(1, 1)]));
    const got = await parser.parse(chunked(gzipSync(body), 100), true, 1024 * 1024);
    expect(got.ok && got.alerts[0]!.message).toBe(agentAlert(1).message);
    await expect(parser.parse([Buffer.from('not gzip')], true, 1024)).rejects.toMatchObject({ code: 'E_BAD_BODY' });
    await expect(parser.parse([gzipSync(Buffer.alloc(10_000, 32))], true, 1_000)).rejects.toMatchObject({
      code: 'E_BODY_TOO_LARGE',
      message: 'body: larger than 1000 bytes once decompressed',
    });
  });

  it("answers in CrowdSec's words: Go's json message, and the checks' status", async () => {
    expect(await parser.parse([Buffer.from('hello')], false, 1024)).toEqual({
      ok: false,
      status: 400,
      message: "invalid character 'h' looking for beginning of value",
    });
    expect(await parser.parse([Buffer.from('{"a":1}')], false, 1024)).toEqual(parseAlertsPayload({ a: 1 }));
    const missing = await parser.parse([Buffer.from(JSON.stringify([{ scenario: 'x' }]))], false, 1024);
    expect(missing).toMatchObject({ ok: false, status: 500 });
  });

  it('fails the pushes in a worker that ends, and starts a new one for the next', async () => {
    const big = Buffer.from(JSON.stringify(Array.from({ length: 1_000 }, (_, n) => alert(n, 50))));
    const inFlight = parser.parse(chunked(big), false, 64 * 1024 * 1024);
    const ended = parser.close();
    await expect(inFlight).rejects.toThrow(/alert parser worker/);
    await ended;
    const next = await parser.parse([Buffer.from(JSON.stringify([alert(2, 1)]))], false, 1024 * 1024);
    expect(next.ok).toBe(true);
  });
});
