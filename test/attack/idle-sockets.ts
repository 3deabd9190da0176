import net from 'node:net';
import tls from 'node:tls';

/**
 * Hostile connections that hold a descriptor and say nothing useful, loopback only:
 * - `silent`: TCP connected, nothing sent (for TLS: no ClientHello);
 * - `dribble`: a real TLS ClientHello, one byte every `dribbleEveryMs`;
 * - `handshaken`: the TLS handshake finished, then nothing.
 * Each socket records when it connected and when the server closed it, measured on this side.
 */
export type IdleKind = 'silent' | 'dribble' | 'handshaken';

export interface IdleSocket {
  kind: IdleKind;
  /**
   * When the connect began (performance.now()): the server cannot have taken the socket earlier, so
   * `closedAt - startedAt` is never shorter than the server held it. `connectedAt` (the 'connect'
   * event) may come late in a busy test process, so `closedAt - connectedAt` is never much longer.
   */
  startedAt: number;
  connectedAt: number | null;
  closedAt: number | null;
}

export interface IdleSockets {
  sockets: IdleSocket[];
  /** How many the server (or the connect) has closed. */
  closed(): number;
  destroy(): void;
}

/** The first flight of a real TLS client (Node's own ClientHello for 127.0.0.1), captured once. */
export async function captureClientHello(): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const hello = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => (resolve(d), s.destroy()))));
  const client = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  client.on('error', () => {});
  const bytes = await hello;
  client.destroy();
  server.close();
  return bytes;
}

/**
 * `count` sockets of `kinds` (in turn) to 127.0.0.1:port from the `from` addresses (in turn).
 * Resolves when every socket has connected (or was closed, or after 5 s).
 */
export async function openIdle(port: number, count: number, opts: { from: string[]; kinds: IdleKind[]; dribbleEveryMs?: number }): Promise<IdleSockets> {
  const hello = opts.kinds.includes('dribble') ? await captureClientHello() : Buffer.alloc(0);
  const sockets: IdleSocket[] = [];
  const raw: net.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const kind = opts.kinds[i % opts.kinds.length]!;
    const localAddress = opts.from[i % opts.from.length]!;
    const rec: IdleSocket = { kind, startedAt: 0, connectedAt: null, closedAt: null };
    sockets.push(rec);
    rec.startedAt = performance.now();
    // tls.connect opens the TCP connection itself (as real clients do; localAddress is passed on to
    // net.connect, its types omit it): a TLS socket wrapped around one made beforehand may miss the
    // server's FIN and sit in CLOSE-WAIT.
    const s =
      kind === 'handshaken'
        ? tls.connect({ host: '127.0.0.1', port, localAddress, rejectUnauthorized: false } as tls.ConnectionOptions)
        : net.connect({ host: '127.0.0.1', port, localAddress });
    raw.push(s);
    s.on('error', () => {});
    // Read (and drop) whatever comes: a stream nobody reads never sees the server's FIN.
    s.resume();
    s.once('connect', () => (rec.connectedAt = performance.now()));
    s.once('close', () => (rec.closedAt ??= performance.now()));
    ready.push(
      new Promise<void>((resolve) => {
        s.once(kind === 'handshaken' ? 'secureConnect' : 'connect', () => resolve());
        s.once('close', () => resolve());
        setTimeout(resolve, 5_000).unref();
      }),
    );
    if (kind === 'dribble') {
      s.once('connect', () => {
        s.write(hello.subarray(0, 1));
        let at = 1;
        const t = setInterval(() => {
          if (!s.writable || at >= hello.length) return clearInterval(t);
          s.write(hello.subarray(at, ++at));
        }, opts.dribbleEveryMs ?? 5_000);
        timers.push(t);
      });
    }
    // Spread the connects: a burst of a thousand SYNs overflows the listen backlog on its own.
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(ready);
  return {
    sockets,
    closed: () => sockets.filter((s) => s.closedAt !== null).length,
    destroy() {
      for (const t of timers) clearInterval(t);
      for (const s of raw) s.destroy();
    },
  };
}
