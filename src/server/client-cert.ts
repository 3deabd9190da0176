import type net from 'node:net';
import type tls from 'node:tls';
import type { Clock } from '../lib/clock.ts';
import { judgeClientCert, type ClientCertVerdict, type PeerCertFacts } from '../core/tls/client-cert.ts';

/** What the routes ask of a connection: the verdict on its client certificate, undefined when it sent none. */
export interface ClientCertSource {
  bouncer(socket: net.Socket): ClientCertVerdict | undefined;
  agent(socket: net.Socket): ClientCertVerdict | undefined;
}

/**
 * Client-certificate authentication on the Local API's TLS listener: reads what the handshake
 * established (once per connection) and lets the pure judge (src/core/tls/client-cert.ts) decide
 * for a bouncer or an agent. Revocation is OpenSSL's, against the CRL the listener loaded
 * (src/server/tls-listener.ts); a CRL reload closes certificate connections so each is verified again.
 */
export class ClientCertAuth implements ClientCertSource {
  #facts = new WeakMap<net.Socket, PeerCertFacts | null>();
  #bouncerOus: readonly string[];
  #agentOus: readonly string[];
  #clock: Clock;

  constructor(opts: { bouncersAllowedOu: readonly string[]; agentsAllowedOu: readonly string[]; clock: Clock }) {
    this.#bouncerOus = opts.bouncersAllowedOu;
    this.#agentOus = opts.agentsAllowedOu;
    this.#clock = opts.clock;
  }

  bouncer(socket: net.Socket): ClientCertVerdict | undefined {
    const facts = this.#factsOf(socket);
    return facts === null ? undefined : judgeClientCert(facts, this.#bouncerOus, this.#clock.now());
  }

  /**
   * For `POST /v1/watchers/login` with a certificate (cs `JWT.authTLS`): undefined when the
   * connection carries no client certificate (then the body's machine_id/password decide), else
   * `{ok: true, cn}` (the machine is `CN@IP`) or `{ok: false, reason}` to record and answer 403.
   */
  agent(socket: net.Socket): ClientCertVerdict | undefined {
    const facts = this.#factsOf(socket);
    return facts === null ? undefined : judgeClientCert(facts, this.#agentOus, this.#clock.now());
  }

  #factsOf(socket: net.Socket): PeerCertFacts | null {
    let facts = this.#facts.get(socket);
    if (facts === undefined) {
      facts = readFacts(socket as tls.TLSSocket);
      this.#facts.set(socket, facts);
    }
    return facts;
  }
}

/** null: not TLS, or no certificate was sent. */
export function readFacts(socket: tls.TLSSocket): PeerCertFacts | null {
  if (typeof socket.getPeerCertificate !== 'function') return null;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0 || !cert.raw) return null;
  const subject = (cert.subject ?? {}) as unknown as Record<string, string | string[] | undefined>;
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const err = socket.authorizationError;
  return {
    authorized: socket.authorized,
    authorizationError: err === undefined || err === null ? undefined : typeof err === 'string' ? err : ((err as NodeJS.ErrnoException).code ?? String(err)),
    cn: list(subject.CN)[0] ?? '',
    ous: list(subject.OU),
    validFrom: Date.parse(cert.valid_from),
    validTo: Date.parse(cert.valid_to),
  };
}
