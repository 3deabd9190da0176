/**
 * A Fastify (4 and 5) plugin: an `onRequest` hook on every route. Fastify's own types are not
 * imported (the library must not load Fastify); the shapes below are the parts we use.
 *
 *   await app.register(fastifyBouncer(bouncer));
 */
import type { IncomingMessage } from 'node:http';
import type { Bouncer, Outcome } from '../bouncer.ts';
import { requestView } from './node-http.ts';

export interface FastifyRequestLike {
  raw: IncomingMessage;
}

export interface FastifyReplyLike {
  code(statusCode: number): FastifyReplyLike;
  headers(values: Record<string, string>): FastifyReplyLike;
  send(payload?: string): FastifyReplyLike;
}

export type OnRequestHook = (request: FastifyRequestLike, reply: FastifyReplyLike, done: (err?: Error) => void) => void;

export interface FastifyInstanceLike {
  addHook(name: 'onRequest', hook: OnRequestHook): unknown;
}

export type FastifyPluginLike = ((instance: FastifyInstanceLike, options: unknown, done: (err?: Error) => void) => void) & {
  [key: symbol]: unknown;
};

const isPromise = <T>(x: T | Promise<T>): x is Promise<T> => typeof (x as Promise<T>)?.then === 'function';

export function fastifyBouncer(bouncer: Bouncer): FastifyPluginLike {
  const hook: OnRequestHook = (request, reply, done) => {
    const apply = (o: Outcome) => {
      if (o.action === 'allow') done();
      else
        reply
          .code(o.status)
          .headers(o.headers)
          .send(request.raw.method === 'HEAD' ? '' : o.body);
    };
    let out: Outcome | Promise<Outcome>;
    try {
      out = bouncer.handle(requestView(request.raw));
    } catch (e) {
      done(e as Error);
      return;
    }
    if (isPromise(out)) out.then(apply, (e: Error) => done(e));
    else apply(out);
  };
  const plugin = (instance: FastifyInstanceLike, _options: unknown, done: (err?: Error) => void): void => {
    instance.addHook('onRequest', hook);
    done();
  };
  // What fastify-plugin does: the hook applies to the whole application, not only this plugin's scope.
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'vigil-bouncer' });
}
