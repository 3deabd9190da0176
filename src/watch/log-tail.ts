/**
 * Following a log file another program writes (CrowdSec's access log), as `tail -F` does, one read
 * per poll from a kept offset:
 * - on the first read, only the last `startBytes` (a huge log is not read whole at start);
 * - rename/create rotation (logrotate's default, lumberjack): while the path is missing the old file
 *   is still followed (its writer has it open); once the path names a new file (another inode), what
 *   is left of the old one is read to its end first, then the new one from 0;
 * - copytruncate: the file shrank below the offset, or its first bytes changed (it was truncated and
 *   has grown again since): read again from 0;
 * - at most `maxBytesPerRead` per read; the rest waits for the next.
 * A partial last line (the writer is mid-line) waits for its newline.
 */
import fs from 'node:fs/promises';

export interface TailRead {
  lines: string[];
  /** Set when the file cannot be read (missing, permission); lines read before are kept. */
  error?: string;
  rotations: number;
}

const HEAD_BYTES = 64;

export class FileTail {
  readonly path: string;
  #startBytes: number;
  #maxBytes: number;
  #file: fs.FileHandle | undefined;
  #ino = -1;
  #offset = 0;
  #head: Buffer = Buffer.alloc(0);
  #partial: Buffer = Buffer.alloc(0);
  #started = false;
  rotations = 0;

  constructor(path: string, opts: { startBytes?: number; maxBytesPerRead?: number } = {}) {
    this.path = path;
    this.#startBytes = opts.startBytes ?? 8 * 1024 * 1024;
    this.#maxBytes = opts.maxBytesPerRead ?? 64 * 1024 * 1024;
  }

  async read(): Promise<TailRead> {
    const lines: string[] = [];
    let stat: import('node:fs').Stats | undefined;
    let error: string | undefined;
    try {
      stat = await fs.stat(this.path);
    } catch (e) {
      error = `${this.path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (e as Error).message}`;
    }
    if (this.#file && !stat) {
      // Renamed away and no new file yet: the writer still writes to the old one, so keep reading it.
      try {
        await this.#drain(lines, this.#maxBytes);
        return { lines, rotations: this.rotations };
      } catch {
        await this.#close();
      }
    }
    // A new file in its place: finish the old one first.
    if (this.#file && stat && stat.ino !== this.#ino) {
      await this.#drain(lines, Number.POSITIVE_INFINITY);
      this.#flushPartial(lines);
      await this.#close();
      this.rotations++;
    }
    if (!stat) return { lines, error, rotations: this.rotations };
    try {
      if (!this.#file) {
        this.#file = await fs.open(this.path, 'r');
        this.#ino = stat.ino;
        this.#offset = 0;
        this.#partial = Buffer.alloc(0);
        if (!this.#started && stat.size > this.#startBytes) {
          // Start a bounded distance from the end, at a line boundary.
          this.#offset = stat.size - this.#startBytes;
          await this.#skipToLineStart();
        }
        this.#started = true;
        this.#head = await this.#readAt(0, HEAD_BYTES);
      } else if (stat.size < this.#offset || !(await this.#sameHead())) {
        // copytruncate: the same file, emptied (and maybe written again since).
        this.#offset = 0;
        this.#partial = Buffer.alloc(0);
        this.rotations++;
        this.#head = await this.#readAt(0, HEAD_BYTES);
      }
      await this.#drain(lines, this.#maxBytes);
      if (this.#head.length < HEAD_BYTES) this.#head = await this.#readAt(0, HEAD_BYTES);
    } catch (e) {
      error = `${this.path}: ${(e as Error).message}`;
      await this.#close();
    }
    return { lines, ...(error ? { error } : {}), rotations: this.rotations };
  }

  async #readAt(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.#file!.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  }

  async #sameHead(): Promise<boolean> {
    if (this.#head.length === 0) return true;
    const now = await this.#readAt(0, this.#head.length);
    return now.equals(this.#head);
  }

  async #skipToLineStart(): Promise<void> {
    for (;;) {
      const chunk = await this.#readAt(this.#offset, 64 * 1024);
      if (chunk.length === 0) return;
      const nl = chunk.indexOf(0x0a);
      if (nl >= 0) {
        this.#offset += nl + 1;
        return;
      }
      this.#offset += chunk.length;
    }
  }

  /** Reads from the offset to the end (or `budget` bytes), appending whole lines. */
  async #drain(lines: string[], budget: number): Promise<void> {
    if (!this.#file) return;
    const chunkSize = 1024 * 1024;
    let left = budget;
    while (left > 0) {
      const chunk = await this.#readAt(this.#offset, Math.min(chunkSize, left));
      if (chunk.length === 0) return;
      this.#offset += chunk.length;
      left -= chunk.length;
      let data = this.#partial.length > 0 ? Buffer.concat([this.#partial, chunk]) : chunk;
      let nl = data.indexOf(0x0a);
      let from = 0;
      while (nl >= 0) {
        lines.push(data.toString('utf8', from, nl));
        from = nl + 1;
        nl = data.indexOf(0x0a, from);
      }
      data = data.subarray(from);
      // A "line" longer than 1 MiB is no log line: dropped rather than held.
      this.#partial = data.length > 1024 * 1024 ? Buffer.alloc(0) : Buffer.from(data);
    }
  }

  #flushPartial(lines: string[]): void {
    if (this.#partial.length > 0) lines.push(this.#partial.toString('utf8'));
    this.#partial = Buffer.alloc(0);
  }

  async #close(): Promise<void> {
    const f = this.#file;
    this.#file = undefined;
    this.#ino = -1;
    await f?.close().catch(() => {});
  }

  async close(): Promise<void> {
    await this.#close();
  }
}
