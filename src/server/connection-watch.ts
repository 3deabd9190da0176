import type { Socket } from 'node:net';

/**
 * Notices a bouncer closing its own connection to the Local API. The Go and Lua bouncers keep one
 * keep-alive connection open between pulls (Go's idle timeout, 90 s, is longer than a 10 s or 60 s
 * cadence), so when the process exits (stopped, killed, crashed) its kernel closes it: Vigil sees
 * the bouncer's FIN (or a reset) before any pull is even missed. A network cut or a frozen host
 * closes nothing, which is how the health engine tells "the process went away" from "silence of
 * unknown cause" (evaluate.ts). A close Vigil started itself (idle timeout, shutdown) is not the
 * bouncer's and is not reported.
 */
const watched = new WeakMap<Socket, number>();

export function watchConnection(socket: Socket, bouncerId: number, closedByClient: (bouncerId: number) => void): void {
  const known = watched.get(socket);
  watched.set(socket, bouncerId);
  if (known !== undefined) return;
  const report = () => closedByClient(watched.get(socket)!);
  // First among the 'end' listeners, before node:http answers the FIN with its own end(): when Vigil
  // closed first (idle keep-alive timeout, shutdown), its end() came before and this is not the bouncer's doing.
  socket.prependOnceListener('end', () => {
    if (!socket.writableEnded) report();
  });
  // A reset comes from the peer (a process killed with data unread); Vigil's own destroy() raises none.
  socket.once('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'ECONNRESET') report();
  });
}
