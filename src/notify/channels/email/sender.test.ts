import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { loadNotificationsConfig, resolveChannels } from '../../config.ts';
import { sampleMessage } from '../../sample.ts';
import type { OutgoingMessage } from '../../../core/notify/types.ts';
import { DeliveryError } from '../shared/delivery-error.ts';
import type { EmailChannel } from './index.ts';
import { emailSender } from './sender.ts';
import { useCleanups } from '../../../../test/support/cleanups.ts';
import { makeSelfSignedCert, opensslAvailable } from '../../../../test/support/test-pki.ts';

/**
 * E-mail against a real SMTP server on loopback (the smtp-server package), parsed with mailparser:
 * STARTTLS and implicit TLS with a self-signed certificate made for this run, AUTH, plain, and
 * the refusals an operator meets (wrong password, no STARTTLS offered, untrusted certificate).
 */
const hasOpenssl = opensslAvailable();
if (!hasOpenssl && process.env.CI) throw new Error('openssl is required in CI for the SMTP TLS tests (scripts/install-openssl.sh)');

interface Received {
  mail: ParsedMail;
  secure: boolean;
  user: string | undefined;
  envelopeTo: string[];
}

async function startSmtp(opts: Partial<SMTPServerOptions> & { password?: string }) {
  const received: Received[] = [];
  const auths: string[] = [];
  const server = new SMTPServer({
    authOptional: opts.password === undefined,
    logger: false,
    ...opts,
    onAuth(auth, _session, cb) {
      auths.push(auth.username ?? '');
      if (auth.username === 'vigil' && auth.password === opts.password) return cb(null, { user: auth.username });
      return cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, cb) {
      simpleParser(stream).then(
        (mail) => {
          received.push({ mail, secure: session.secure, user: session.user as string | undefined, envelopeTo: session.envelope.rcptTo.map((r) => r.address) });
          cb(null);
        },
        (e) => cb(e),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address() as AddressInfo).port;
  return { port, received, auths, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const T0 = Date.UTC(2026, 10, 8, 9, 0, 0);
const message = (deliveryId: string): OutgoingMessage => ({
  deliveryId,
  channel: 'mail',
  content: { ...sampleMessage(T0, 'http://127.0.0.1:8080/'), event: 'opened' },
});

function channel(over: Partial<EmailChannel>): EmailChannel {
  return {
    name: 'mail',
    type: 'email',
    filter: { criticality: [], kinds: [], bouncers: [] },
    remindEveryMs: 0,
    host: '127.0.0.1',
    port: 25,
    security: 'starttls',
    username: null,
    password: null,
    from: 'Vigil <vigil@example.test>',
    to: ['ops@example.test', 'oncall@example.test'],
    tlsCaFile: null,
    tlsInsecureSkipVerify: false,
    ...over,
  };
}

describe.skipIf(!hasOpenssl)('e-mail over SMTP to a real server', () => {
  const cleanups = useCleanups('all');
  let key: string;
  let cert: string;
  let caFile: string;

  beforeAll(() => {
    ({ cert, key, certPath: caFile } = makeSelfSignedCert(cleanups.tempDir('vigil-smtp-')));
  });

  it('sends over STARTTLS with AUTH: readable text and HTML, the delivery id as header and Message-ID', async () => {
    const smtp = await startSmtp({ key, cert, password: 'p@ss w0rd' });
    try {
      // Through the configuration, the password from the environment.
      const section = {
        channels: {
          mail: {
            type: 'email' as const,
            host: '127.0.0.1',
            port: smtp.port,
            username: 'vigil',
            password: '${SMTP_PASSWORD}',
            from: 'Vigil <vigil@example.test>',
            to: ['ops@example.test', 'oncall@example.test'],
            tls_ca_file: caFile,
          },
        },
      };
      const [ch] = resolveChannels(loadNotificationsConfig(section, null), { SMTP_PASSWORD: 'p@ss w0rd' });
      const answer = await emailSender(ch as EmailChannel, 5000).send(message('7b0c5a52-0000-4000-8000-000000000001'));
      expect(answer).toMatch(/^250 /);
      expect(smtp.received).toHaveLength(1);
      const [{ mail, secure, user, envelopeTo }] = smtp.received as [Received];
      expect(secure).toBe(true);
      expect(user).toBe('vigil');
      expect(envelopeTo).toEqual(['ops@example.test', 'oncall@example.test']);
      expect(mail.subject).toBe('[Vigil] CRITICAL: RC Integration Offline: bouncer example-bouncer');
      expect(mail.messageId).toBe('<7b0c5a52-0000-4000-8000-000000000001@vigil.invalid>');
      expect(mail.headers.get('x-vigil-delivery')).toBe('7b0c5a52-0000-4000-8000-000000000001');
      expect(mail.headers.get('x-vigil-event')).toBe('opened');
      expect(mail.from?.value[0]).toMatchObject({ name: 'Vigil', address: 'vigil@example.test' });
      expect(mail.text).toContain('[CRITICAL] RC Integration Offline: bouncer example-bouncer');
      expect(mail.text).toContain('Diagnose');
      expect(mail.html).toContain('<h4 style="margin:12px 0 4px">Diagnose</h4>');
      expect(mail.html).toContain('<code>example-bouncer</code>');
    } finally {
      await smtp.close();
    }
  });

  it('sends over implicit TLS (port-465 style)', async () => {
    const smtp = await startSmtp({ key, cert, secure: true, password: 'pw' });
    try {
      const answer = await emailSender(channel({ port: smtp.port, security: 'tls', username: 'vigil', password: 'pw', tlsCaFile: caFile }), 5000).send(
        message('d-tls'),
      );
      expect(answer).toMatch(/^250 /);
      expect(smtp.received[0]!.secure).toBe(true);
    } finally {
      await smtp.close();
    }
  });

  it('security none stays in clear text even when the server offers STARTTLS', async () => {
    const smtp = await startSmtp({ key, cert });
    try {
      await emailSender(channel({ port: smtp.port, security: 'none' }), 5000).send(message('d-plain'));
      expect(smtp.received[0]!.secure).toBe(false);
      expect(smtp.received[0]!.mail.headers.get('x-vigil-delivery')).toBe('d-plain');
    } finally {
      await smtp.close();
    }
  });

  it('a wrong password is a permanent refusal (535) and the password is not in the error', async () => {
    const smtp = await startSmtp({ key, cert, password: 'right' });
    try {
      const err = await emailSender(channel({ port: smtp.port, username: 'vigil', password: 'wrong-secret', tlsCaFile: caFile }), 5000)
        .send(message('d-auth'))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeliveryError);
      expect((err as DeliveryError).permanent).toBe(true);
      expect((err as DeliveryError).message).toContain('535');
      expect((err as DeliveryError).message).not.toContain('wrong-secret');
      expect(smtp.received).toHaveLength(0);
    } finally {
      await smtp.close();
    }
  });

  it('starttls refuses a server that does not offer it, before sending the password', async () => {
    const smtp = await startSmtp({ key, cert, disabledCommands: ['STARTTLS'], allowInsecureAuth: true, password: 'pw' });
    try {
      const err = await emailSender(channel({ port: smtp.port, username: 'vigil', password: 'pw', tlsCaFile: caFile }), 5000)
        .send(message('d-nostarttls'))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeliveryError);
      expect((err as DeliveryError).message).toMatch(/STARTTLS/i);
      expect(smtp.auths).toEqual([]);
      expect(smtp.received).toHaveLength(0);
    } finally {
      await smtp.close();
    }
  });

  it('refuses an untrusted certificate unless told to skip verification', async () => {
    const smtp = await startSmtp({ key, cert });
    try {
      const err = await emailSender(channel({ port: smtp.port }), 5000)
        .send(message('d-untrusted'))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeliveryError);
      expect((err as DeliveryError).message).toMatch(/certificate/i);
      expect(smtp.received).toHaveLength(0);
      await emailSender(channel({ port: smtp.port, tlsInsecureSkipVerify: true }), 5000).send(message('d-skip'));
      expect(smtp.received.map((r) => r.mail.headers.get('x-vigil-delivery'))).toEqual(['d-skip']);
    } finally {
      await smtp.close();
    }
  });

  it('times out against a server that never greets', async () => {
    const net = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    try {
      const err = await emailSender(channel({ port: (silent.address() as AddressInfo).port, security: 'none' }), 500)
        .send(message('d-slow'))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeliveryError);
      expect((err as DeliveryError).permanent).toBe(false);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
