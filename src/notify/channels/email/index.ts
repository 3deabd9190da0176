import fs from 'node:fs';
import { z } from 'zod';
import { VigilError } from '../../../lib/errors.ts';
import { channelSchema, defineChannel, type ChannelBase } from '../shared/channel-definition.ts';

export type SmtpSecurity = 'none' | 'starttls' | 'tls';

/** E-mail over SMTP. */
export interface EmailChannel extends ChannelBase {
  type: 'email';
  host: string;
  port: number;
  security: SmtpSecurity;
  username: string | null;
  password: string | null;
  from: string;
  to: string[];
  /** PEM file of a CA to trust besides the system ones (a private or self-signed server). */
  tlsCaFile: string | null;
  tlsInsecureSkipVerify: boolean;
}

const emailSchema = channelSchema('email', {
  host: z.string().meta({ description: 'SMTP server host name or address.' }),
  port: z.number().int().min(1).max(65535).optional().meta({ description: 'SMTP port.', default: '465 for tls, 587 for starttls, 25 for none' }),
  security: z.enum(['none', 'starttls', 'tls']).optional().meta({ description: 'Transport security.', default: 'starttls' }),
  username: z.string().optional().meta({ description: 'SMTP AUTH user (with password, or neither).' }),
  password: z.string().optional().meta({ description: 'SMTP AUTH password; write `${SMTP_PASSWORD}` and keep it in the environment.' }),
  from: z.string().meta({ description: 'Sender, e.g. `Vigil <vigil@example.com>`.' }),
  to: z.union([z.string(), z.array(z.string()).min(1)]).meta({ description: 'One recipient or a list.' }),
  tls_ca_file: z.string().optional().meta({ description: 'PEM file of a CA to trust besides the system ones (a private server).' }),
  tls_insecure_skip_verify: z.boolean().optional().meta({ description: 'Accept any certificate (testing only).', default: 'false' }),
});

export const emailChannel = defineChannel<typeof emailSchema, EmailChannel>({
  fileSchema: emailSchema,
  resolve(ch, base, { at, text: str }) {
    const security: SmtpSecurity = ch.security ?? 'starttls';
    const host = str('host', ch.host).trim();
    if (host === '' || /[\s/]/.test(host)) throw new VigilError('E_CONFIG', `${at('host')}: "${host}" is not a host name or address; e.g. smtp.example.com`);
    const to = (Array.isArray(ch.to) ? ch.to : [ch.to]).map((a, i) => emailAddress(at(Array.isArray(ch.to) ? `to[${i}]` : 'to'), str('to', a)));
    const username = ch.username === undefined ? null : str('username', ch.username);
    const password = ch.password === undefined ? null : str('password', ch.password);
    if ((username === null) !== (password === null)) {
      throw new VigilError('E_CONFIG', `${at(username === null ? 'username' : 'password')}: set both username and password for SMTP AUTH, or neither`);
    }
    const tlsCaFile = ch.tls_ca_file === undefined ? null : str('tls_ca_file', ch.tls_ca_file);
    if (tlsCaFile !== null && !fs.existsSync(tlsCaFile)) throw new VigilError('E_CONFIG', `${at('tls_ca_file')}: ${tlsCaFile}: no such file`);
    if (security === 'none' && (tlsCaFile !== null || ch.tls_insecure_skip_verify)) {
      throw new VigilError('E_CONFIG', `${at('security')}: TLS options are set but security is none; use starttls or tls`);
    }
    return {
      ...base,
      type: 'email',
      host,
      port: ch.port ?? (security === 'tls' ? 465 : security === 'starttls' ? 587 : 25),
      security,
      username,
      password,
      from: emailAddress(at('from'), str('from', ch.from)),
      to,
      tlsCaFile,
      tlsInsecureSkipVerify: ch.tls_insecure_skip_verify ?? false,
    };
  },
  // The password is never printed; the user name is not a secret and tells which account is used.
  target(ch) {
    const auth = ch.username ? ` as ${ch.username}` : '';
    return `smtp ${ch.host}:${ch.port} (${ch.security}${auth}) to ${ch.to.join(', ')}`;
  },
  loadSender: async () => (await import('./sender.ts')).emailSender,
});

// Deliberately loose (RFC 5322 allows far more): one @, no spaces or brackets; "Name <a@b>" accepted.
function emailAddress(key: string, text: string): string {
  const t = text.trim();
  const m = /^(?:[^<>]*<([^<>\s]+)>|([^<>\s]+))$/.exec(t);
  const addr = m?.[1] ?? m?.[2];
  if (!addr || !/^[^@\s]+@[^@\s]+$/.test(addr) || /[\r\n]/.test(t)) {
    throw new VigilError('E_CONFIG', `${key}: "${t}" is not an e-mail address; use e.g. ops@example.com or "Vigil <vigil@example.com>"`);
  }
  return t;
}
