import type { ServerResponse } from 'node:http';

/**
 * Writes a large answer piece by piece, pulling the next piece only once the socket took the last
 * one (back-pressure): a bouncer reading a 1M-decision startup slowly holds one piece of it in
 * memory, not the whole body. `between` runs after each piece (taking turns with the other large
 * answers). Stops, without ending the answer, once the client has gone.
 */
export async function writeChunks(res: ServerResponse, chunks: Iterable<Buffer>, between: () => Promise<void>): Promise<void> {
  for (const chunk of chunks) {
    if (res.destroyed) return;
    if (!res.write(chunk)) await drained(res);
    await between();
  }
  if (!res.destroyed) res.end();
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
