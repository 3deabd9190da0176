/**
 * Express (4 and 5) middleware. Express's request and response extend node's IncomingMessage and
 * ServerResponse, so the connect-style middleware fits as is; the types below are ours, so the
 * library never loads Express.
 *
 *   app.use(expressBouncer(bouncer));
 */
import type { Bouncer } from '../bouncer.ts';
import { nodeMiddleware, type ConnectMiddleware } from './node-http.ts';

export type ExpressMiddleware = ConnectMiddleware;

export function expressBouncer(bouncer: Bouncer): ExpressMiddleware {
  return nodeMiddleware(bouncer);
}
