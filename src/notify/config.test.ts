import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.ts';
import { describeTarget } from './channels/index.ts';
import { expandEnv, resolveChannels } from './config.ts';
import { retryDelay } from '../core/notify/backoff.ts';

function withFile(yaml: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-notify-config-'));
  const file = path.join(dir, 'vigil.yaml');
  fs.writeFileSync(file, yaml);
  return { file, load: (env: NodeJS.ProcessEnv = {}) => loadConfig({ flags: { config: file }, env, cwd: dir }) };
}

const SLACK = 'https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX';

describe('notifications configuration', () => {
  it('has defaults: no channel, reminders every 24h, 10s timeout, retries from 10s up to 10m', () => {
    const c = loadConfig({ env: {}, cwd: '/nonexistent' });
    expect(c.notifications).toMatchObject({ remindEveryMs: 24 * 3600_000, timeoutMs: 10_000, retryInitialMs: 10_000, retryMaxMs: 600_000, channels: {} });
    expect(resolveChannels(c.notifications, {})).toEqual([]);
  });

  it('reads every channel type, with ${VAR} secrets from the environment and per-channel filters', () => {
    const { load } = withFile(`
notifications:
  remind_every: 12h
  channels:
    hook:
      type: webhook
      url: https://example.com/vigil/\${HOOK_TOKEN}
      headers: { Authorization: "Bearer \${HOOK_TOKEN}", X-Team: sre }
      secret: \${HOOK_SECRET}
      criticality: [critical]
      kinds: [rc_integration_offline]
      bouncers: ["web-*"]
      remind_every: "0"
    chat:
      type: slack
      url: \${SLACK_URL}
    mail:
      type: email
      host: smtp.example.com
      username: vigil
      password: \${SMTP_PASSWORD}
      from: Vigil <vigil@example.com>
      to: ops@example.com
`);
    const env = { HOOK_TOKEN: 'tok123', HOOK_SECRET: 's3cret', SLACK_URL: SLACK, SMTP_PASSWORD: 'pw' };
    const [hook, chat, mail] = resolveChannels(load(env).notifications, env);
    expect(hook).toEqual({
      name: 'hook',
      type: 'webhook',
      url: 'https://example.com/vigil/tok123',
      headers: { Authorization: 'Bearer tok123', 'X-Team': 'sre' },
      secret: 's3cret',
      template: null,
      filter: { criticality: ['critical'], kinds: ['rc_integration_offline'], bouncers: ['web-*'] },
      remindEveryMs: 0,
    });
    expect(chat).toMatchObject({ type: 'slack', url: SLACK, remindEveryMs: 12 * 3600_000 });
    expect(mail).toMatchObject({
      type: 'email',
      host: 'smtp.example.com',
      port: 587,
      security: 'starttls',
      username: 'vigil',
      password: 'pw',
      to: ['ops@example.com'],
    });
    // What is printed never holds the secrets.
    expect(describeTarget(hook!)).toBe('https://example.com/vigil/***');
    expect(describeTarget(chat!)).toBe('https://hooks.slack.com/services/***');
    expect(describeTarget(mail!)).toBe('smtp smtp.example.com:587 (starttls as vigil) to ops@example.com');
  });

  it('does not need the secrets to load (other commands work without them); starting notifications does', () => {
    const { load, file } = withFile(`notifications:\n  channels:\n    chat:\n      type: slack\n      url: \${SLACK_URL}\n`);
    const config = load({});
    expect(() => resolveChannels(config.notifications, {})).toThrow(
      `config file ${file}: notifications.channels.chat.url: environment variable SLACK_URL is not set (referenced as \${SLACK_URL}); export it to the server's environment`,
    );
  });

  it('refuses a bad channel with the file, the key and the reason, and never prints the secret', () => {
    const cases: Array<[string, string, NodeJS.ProcessEnv?]> = [
      ['chat:\n      type: opsgenie\n      url: x', 'notifications.channels.chat.type: use webhook, slack, email, pagerduty, alertmanager, teams or discord'],
      ['chat:\n      type: slack', 'notifications.channels.chat.url: '],
      ['chat:\n      type: slack\n      url: x\n      colour: red', 'notifications.channels.chat: unknown key colour'],
      ['chat:\n      type: slack\n      url: x\n      criticality: [urgent]', 'notifications.channels.chat.criticality.0: '],
      ['chat:\n      type: slack\n      url: x\n      remind_every: soon', 'notifications.channels.chat.remind_every "soon"'],
      ['"bad name":\n      type: slack\n      url: x', 'notifications.channels.bad name: channel names use letters'],
    ];
    for (const [channel, message] of cases) {
      const { load, file } = withFile(`notifications:\n  channels:\n    ${channel}\n`);
      expect(() => load()).toThrow(`config file ${file}: ${message}`);
    }
    const resolveCases: Array<[string, string]> = [
      [
        'chat:\n      type: slack\n      url: "ftp://hooks.example.com/secret-token"',
        'notifications.channels.chat.url: "ftp://***": use an http:// or https:// URL',
      ],
      ['chat:\n      type: slack\n      url: "not a url /secret-token"', 'notifications.channels.chat.url: "***" is not a URL'],
      ['m:\n      type: email\n      host: h\n      from: nobody\n      to: a@b.c', 'notifications.channels.m.from: "nobody" is not an e-mail address'],
      ['m:\n      type: email\n      host: h\n      from: a@b.c\n      to: [a@b.c, "x y"]', 'notifications.channels.m.to[1]: "x y" is not an e-mail address'],
      [
        'm:\n      type: email\n      host: h\n      from: a@b.c\n      to: a@b.c\n      username: u',
        'notifications.channels.m.password: set both username and password',
      ],
      [
        'm:\n      type: email\n      host: h\n      from: a@b.c\n      to: a@b.c\n      tls_ca_file: /nonexistent/ca.pem',
        'notifications.channels.m.tls_ca_file: /nonexistent/ca.pem: no such file',
      ],
      [
        'm:\n      type: email\n      host: h\n      from: a@b.c\n      to: a@b.c\n      security: none\n      tls_insecure_skip_verify: true',
        'notifications.channels.m.security: TLS options are set but security is none',
      ],
      [
        'h:\n      type: webhook\n      url: https://x.example\n      headers: { "Bad Header": x }',
        'notifications.channels.h.headers: "Bad Header" is not a valid HTTP header name',
      ],
    ];
    for (const [channel, message] of resolveCases) {
      const { load, file } = withFile(`notifications:\n  channels:\n    ${channel}\n`);
      const run = () => resolveChannels(load().notifications, {});
      expect(run).toThrow(`config file ${file}: ${message}`);
      expect(() => run()).not.toThrow(/secret-token/);
    }
    const { load, file } = withFile('notifications:\n  retry_initial: 1m\n  retry_max: 10s\n');
    expect(() => load()).toThrow(`config file ${file}: notifications.retry_max: must be at least retry_initial (1m)`);
  });

  it('expands ${VAR}, keeps $$ as $, and refuses a malformed reference', () => {
    expect(expandEnv('a${X}b$$c$d', { X: '1' }, 'k')).toBe('a1b$c$d');
    expect(() => expandEnv('${1X}', {}, 'k')).toThrow('k: "${1X}" is not a variable reference');
    expect(() => expandEnv('${EMPTY}', { EMPTY: '' }, 'k')).toThrow('environment variable EMPTY is not set');
  });
});

describe('retryDelay', () => {
  it('doubles from the initial delay up to the cap, with up to half of it random', () => {
    const low = () => 0;
    const high = () => 1;
    expect([1, 2, 3, 4].map((n) => retryDelay(n, 10_000, 600_000, high))).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect([1, 2, 3, 4].map((n) => retryDelay(n, 10_000, 600_000, low))).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(retryDelay(50, 10_000, 600_000, high)).toBe(600_000);
  });
});
