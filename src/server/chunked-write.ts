import type { ServerResponse } from 'node:http';

/**
 * Writes a large answer piece by piece, pulling the next piece only once the socket took the last
 * one (back-pressure): a bouncer reading a 1M-decision startup slowly holds one piece of it in
 * memory, not the whole body. `between` runs after each piece (taking turns with the other large
 * answers). Stops, without ending the answer, once the client has gone.
 */
export async function writeChunks(res: ServerResponse, chunks: Iterable<Buffer>, between: () => Promise<void>, buffers?: ChunkBuffers): Promise<void> {
  for (const chunk of chunks) {
    if (res.destroyed) return;
    const written = buffers === undefined ? res.write(chunk) : res.write(chunk, () => buffers.giveBack(chunk));
    if (!written) await drained(res);
    await between();
  }
  if (!res.destroyed) res.end();
}

/**
 * Chunk buffers handed back once the socket has written them: 20 bouncers reading a 1M-decision
 * startup are 2.7 GB of 270 kB buffers, and that much fresh external memory makes V8 run full
 * collections (pauses of 100 ms for every live query). A few buffers per answer are reused instead.
 */
export class ChunkBuffers {
  readonly #free: Buffer[] = [];

  /** A buffer of at least `size` bytes: a returned one when large enough. */
  readonly alloc = (size: number): Buffer => {
    const b = this.#free.pop();
    return b !== undefined && b.length >= size ? b : Buffer.allocUnsafe(Math.max(size, 256 << 10));
  };

  /** Called once the socket is done with a chunk cut from one of these buffers. */
  giveBack(chunk: Buffer): void {
    // The chunk starts where its buffer starts (a whole buffer, or its first bytes).
    if (this.#free.length < 4) this.#free.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.buffer.byteLength - chunk.byteOffset));
  }
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
