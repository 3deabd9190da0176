import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import nodemailer from 'nodemailer';
import type { OutgoingMessage } from '../../../core/notify/types.ts';
import { DeliveryError, withDeadline } from '../shared/delivery-error.ts';
import type { Sender } from '../shared/sender.ts';
import type { EmailChannel } from './index.ts';
import { renderEmail } from './render.ts';

// nodemailer's error codes, in an operator's words.
const HINTS: Record<string, string> = {
  ETLS: 'STARTTLS failed (is TLS offered on this port? security: tls is for port 465)',
  EAUTH: 'SMTP authentication refused (check username and password)',
};

/**
 * E-mail over SMTP with nodemailer: plain (`none`, never upgraded even when offered), `starttls`
 * (the upgrade is required: a server that does not offer it is refused, so the password never
 * crosses in clear) or `tls` (implicit TLS, port 465). The delivery id is the Message-ID and an
 * `X-Vigil-Delivery` header, so mail filters and receivers can drop a duplicate.
 */
export function emailSender(ch: EmailChannel, timeoutMs: number): Sender {
  const ca = ch.tlsCaFile ? [...tls.rootCertificates, fs.readFileSync(ch.tlsCaFile, 'utf8')] : undefined;
  return {
    async send(m: OutgoingMessage): Promise<string> {
      const transport = nodemailer.createTransport({
        host: ch.host,
        port: ch.port,
        secure: ch.security === 'tls',
        requireTLS: ch.security === 'starttls',
        ignoreTLS: ch.security === 'none',
        auth: ch.username !== null ? { user: ch.username, pass: ch.password ?? '' } : undefined,
        tls: { ca, rejectUnauthorized: !ch.tlsInsecureSkipVerify },
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
        disableFileAccess: true,
        disableUrlAccess: true,
        logger: false,
      });
      const mail = renderEmail(m);
      const thread = emailThread(m);
      try {
        const info = await withDeadline(
          timeoutMs,
          transport.sendMail({
            from: ch.from,
            to: ch.to,
            subject: mail.subject,
            text: mail.text,
            html: mail.html,
            messageId: `<${m.deliveryId}@vigil.invalid>`,
            ...(thread ? { inReplyTo: thread, references: thread } : {}),
            headers: { 'X-Vigil-Delivery': m.deliveryId, 'X-Vigil-Event': m.content.event },
          }),
          () => transport.close(),
        );
        const rejected = info.rejected.length > 0 ? ` (refused for ${info.rejected.map(String).join(', ')})` : '';
        return `${info.response}${rejected}`;
      } catch (e) {
        if (e instanceof DeliveryError) throw e;
        const err = e as Error & { responseCode?: number; response?: string; code?: string };
        // SMTP 5xx is a definite refusal (bad credentials, unknown mailbox); 4xx and I/O errors may pass later.
        const permanent = typeof err.responseCode === 'number' && err.responseCode >= 500;
        const text = (err.response ?? err.message ?? String(e)).replace(/\s+/g, ' ').trim();
        throw new DeliveryError(
          HINTS[err.code ?? ''] ? `${HINTS[err.code!]}: ${text}` : err.code && !text.includes(err.code) ? `${err.code}: ${text}` : text,
          permanent,
        );
      } finally {
        transport.close();
      }
    },
  };
}

/**
 * The thread of a one-issue message: opened, updated, reminders and resolved of one issue share a
 * `References` id (named by the issue id and this Local API, so two Vigils never share a thread), so
 * mail clients show one incident as one thread. A grouped message starts its own.
 */
export function emailThread(m: OutgoingMessage): string | null {
  const issues = m.content.issues;
  if (issues.length !== 1) return null;
  const where = crypto.createHash('sha256').update(m.content.lapiUrl).digest('hex').slice(0, 12);
  return `<vigil-issue-${issues[0]!.id}.${where}@vigil.invalid>`;
}
