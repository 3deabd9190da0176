import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.ts';
import { startHttpReceiver, unusedPort, type HttpReceiver } from './support/receivers.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { Store } from '../src/store/store.ts';
import { HealthEngine } from '../src/health/engine.ts';
import { DEFAULT_RULES } from '../src/core/health/evaluate.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { cliRunner, useCliWorkspace } from './support/cli.ts';
import { createBouncer } from '../src/store/bouncers.ts';

/** `vigil notify …` and `vigil issues silence|silences|unsilence|ack`, in-process through main(argv, io), on each database. */
const T0 = Date.UTC(2026, 10, 11, 10, 0, 0);

for (const dialect of DIALECTS) {
  describe(`${dialect}: notification and silence commands`, () => {
    const workspace = useCliWorkspace(dialect, 'vigil-notify-cli-');
    let dir: string;
    let dbUrl: string;
    let hook: HttpReceiver;
    let broken: HttpReceiver;
    const clock = new ManualClock(T0);
    let env: NodeJS.ProcessEnv;

    const vigil = cliRunner(() => ({ env, cwd: dir, clock }));
    const writeConfig = (yaml: string) => fs.writeFileSync(path.join(dir, 'vigil.yaml'), yaml);

    beforeEach(async () => {
      ({ dir, dbUrl } = workspace());
      clock.set(T0);
      hook = await startHttpReceiver();
      broken = await startHttpReceiver(() => ({ status: 500, body: 'upstream down' }));
      env = { VIGIL_DB: dbUrl, HOOK_URL: hook.url, USER: 'alice' };
      writeConfig(
        [
          'notifications:',
          '  timeout: 2s',
          '  channels:',
          '    hook:',
          '      type: webhook',
          '      url: ${HOOK_URL}',
          '      secret: s3cret-signing-key',
          '    chat:',
          '      type: slack',
          `      url: ${broken.url}`,
          '      criticality: [critical]',
          '    dead:',
          '      type: webhook',
          `      url: http://127.0.0.1:${await unusedPort()}/x`,
          '',
        ].join('\n'),
      );
    });
    afterEach(async () => {
      await hook.close();
      await broken.close();
    });

    it("notify test sends a sample and prints the receiver's answer; a refusal is one fatal line, exit 1", async () => {
      const ok = await vigil('notify', 'test', 'hook');
      expect(ok.code).toBe(0);
      expect(hook.requests).toHaveLength(1);
      const delivery = hook.requests[0]!.headers['x-vigil-delivery'];
      expect(hook.requests[0]!.json).toMatchObject({ event: 'test', deliveryId: delivery, issues: [{ bouncer: 'example-bouncer' }] });
      expect(ok.out).toBe(`Delivered to hook (webhook, http://127.0.0.1:${hook.port}/hooks/***), delivery ${delivery}.\nReceiver answered: HTTP 200 ok\n`);

      const refused = await vigil('notify', 'test', 'chat');
      expect(refused.code).toBe(1);
      expect(refused.err).toBe(`level=fatal msg="chat (slack, http://127.0.0.1:${broken.port}/hooks/***): not delivered: HTTP 500 upstream down"\n`);
      const dead = await vigil('notify', 'test', 'dead');
      expect(dead.code).toBe(1);
      expect(dead.err).toContain('not delivered: connect ECONNREFUSED 127.0.0.1:');

      const unknown = await vigil('notify', 'test', 'pager');
      expect(unknown.err).toBe('level=fatal msg="channel "pager" is not configured; configured: hook, chat, dead"\n');
      for (const r of [ok, refused, dead, unknown]) expect(r.out + r.err).not.toContain('secret-token-123');
    });

    it('notify channels lists targets masked and the filters; a missing secret names the key and the variable', async () => {
      const r = await vigil('notify', 'channels', '-o', 'json');
      expect(JSON.parse(r.out)).toEqual([
        {
          name: 'hook',
          type: 'webhook',
          target: `http://127.0.0.1:${hook.port}/hooks/***`,
          filter: { criticality: [], kinds: [], bouncers: [] },
          remindEveryMs: 86_400_000,
        },
        {
          name: 'chat',
          type: 'slack',
          target: `http://127.0.0.1:${broken.port}/hooks/***`,
          filter: { criticality: ['critical'], kinds: [], bouncers: [] },
          remindEveryMs: 86_400_000,
        },
        {
          name: 'dead',
          type: 'webhook',
          target: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/\*\*\*$/),
          filter: { criticality: [], kinds: [], bouncers: [] },
          remindEveryMs: 86_400_000,
        },
      ]);
      delete env.HOOK_URL;
      const missing = await vigil('notify', 'channels');
      expect(missing.code).toBe(1);
      expect(missing.err).toContain('notifications.channels.hook.url: environment variable HOOK_URL is not set (referenced as ${HOOK_URL})');
      // Other commands do not need the notification secrets.
      expect((await vigil('bouncers', 'list')).code).toBe(0);
    });

    it('serve refuses a bad channel at start, naming the key and the reason', async () => {
      writeConfig(
        'listen: 127.0.0.1:0\nmetrics_listen: "off"\nnotifications:\n  channels:\n    chat:\n      type: slack\n      url: "ftp://example.com/T0/B0/secret-token"\n',
      );
      const r = await vigil('serve');
      expect(r.code).toBe(1);
      expect(r.err).toBe(
        `level=fatal msg="config file ${path.join(dir, 'vigil.yaml')}: notifications.channels.chat.url: "ftp://***": use an http:// or https:// URL"\n`,
      );
      writeConfig('notifications:\n  channels:\n    chat:\n      type: slak\n');
      const typo = await vigil('serve');
      expect(typo.err).toContain('notifications.channels.chat.type: use webhook, slack, email, pagerduty, alertmanager, teams or discord');
    });

    it('issues silence, silences, unsilence and ack', async () => {
      const store = await Store.open(dbUrl);
      let issueId: number;
      try {
        issueId = (await new HealthEngine(store, clock, DEFAULT_RULES).evaluateNow()).opened[0]!.id;
        await createBouncer(store, { name: 'web', apiKeyHash: hashApiKey('web-key'), now: T0 });
      } finally {
        await store.close();
      }
      const s1 = await vigil('issues', 'silence', String(issueId), '--for', '8h', '--reason', 'planned upgrade');
      expect(s1).toEqual({
        code: 0,
        err: '',
        out: `Silenced issue ${issueId} until 2026-11-11T18:00:00Z (8h0m0s): planned upgrade\nSilence 1; end it early with: vigil issues unsilence 1\n`,
      });
      const s2 = await vigil('issues', 'silence', '--bouncer', 'web', '--for', '2d', '--reason', 'decommissioning', '-o', 'json');
      expect(JSON.parse(s2.out)).toMatchObject({
        id: 2,
        issueId: null,
        bouncer: 'web',
        createdBy: 'cli:alice',
        endsAt: '2026-11-13T10:00:00.000Z',
        active: true,
      });

      const list = await vigil('issues', 'silences', '-o', 'raw');
      expect(list.out).toBe(
        'id,target,status,ends_at,created_by,reason\n' +
          `2,bouncer web,active,2026-11-13T10:00:00Z,cli:alice,decommissioning\n` +
          `1,issue ${issueId},active,2026-11-11T18:00:00Z,cli:alice,planned upgrade\n`,
      );
      clock.advance(60_000);
      expect((await vigil('issues', 'unsilence', '1')).out).toBe(`Silence 1 on issue ${issueId} removed.\n`);
      expect((await vigil('issues', 'silences', '-o', 'json')).out).toContain('"bouncer": "web"');
      expect(JSON.parse((await vigil('issues', 'silences', '-o', 'json')).out)).toHaveLength(1);
      expect(JSON.parse((await vigil('issues', 'silences', '--all', '-o', 'json')).out)).toHaveLength(2);
      const again = await vigil('issues', 'unsilence', '1');
      expect(again.code).toBe(1);
      expect(again.err).toBe('level=fatal msg="silence 1 already ended at 2026-11-11T10:01:00.000Z"\n');

      expect((await vigil('issues', 'ack', String(issueId), '--reason', 'bob is on it')).out).toBe(
        `Issue ${issueId} acknowledged: no more reminders; its resolve will still be sent.\n`,
      );
      expect((await vigil('issues', 'ack', String(issueId))).out).toBe(`Issue ${issueId} was already acknowledged by cli:alice at 2026-11-11T10:01:00Z.\n`);
    });

    it('issues silence by bouncer glob, kind, label, with a future start, and every night in a time zone', async () => {
      const glob = await vigil(
        'issues',
        'silence',
        '--bouncer',
        'edge-*',
        '--kind',
        'rc_integration_offline',
        '--in',
        '2h',
        '--for',
        '3h',
        '--reason',
        'edge reboot',
      );
      expect(glob).toEqual({
        code: 0,
        err: '',
        out:
          'Silenced bouncer edge-* · kind rc_integration_offline from 2026-11-11T12:00:00Z until 2026-11-11T15:00:00Z (3h0m0s): edge reboot\n' +
          'Silence 1; end it early with: vigil issues unsilence 1\n',
      });
      const nightly = await vigil(
        ...['issues', 'silence', '--label', 'bouncer_kind=firewall', '--every', 'day', '--at', '02:00', '--lasting', '30m', '--tz', 'Europe/Paris'],
        ...['--for', '30d', '--reason', 'nightly nftables reload', '-o', 'json'],
      );
      expect(JSON.parse(nightly.out)).toMatchObject({
        id: 2,
        labels: { bouncer_kind: 'firewall' },
        every: { at: '02:00', lastingMs: 1_800_000, days: [], timeZone: 'Europe/Paris' },
        startsAt: '2026-11-11T10:00:00.000Z',
        active: false,
        // 02:00 Paris (UTC+1 in November) is 01:00Z, the next night.
        nextWindowAt: '2026-11-12T01:00:00.000Z',
      });
      const list = await vigil('issues', 'silences', '-o', 'raw');
      expect(list.out).toBe(
        'id,target,status,ends_at,created_by,reason\n' +
          '2,bouncer_kind=firewall · every day 02:00 Europe/Paris for 30m0s,from 2026-11-12T01:00:00.000Z,2026-12-11T10:00:00Z,cli:alice,nightly nftables reload\n' +
          '1,bouncer edge-* · kind rc_integration_offline,from 2026-11-11T12:00:00.000Z,2026-11-11T15:00:00Z,cli:alice,edge reboot\n',
      );
      clock.set(Date.parse('2026-11-12T01:10:00Z'));
      expect(JSON.parse((await vigil('issues', 'silences', '-o', 'json')).out).map((s: { id: number; active: boolean }) => [s.id, s.active])).toEqual([
        [2, true],
      ]); // silence 1 ended at 15:00
    });

    it('issues silence refuses what cannot work, with the flag and the fix, and changes nothing', async () => {
      const bad: Array<[string[], string]> = [
        [['issues', 'silence', '1', '--reason', 'x'], '--for: how long, e.g. 8h or 2d'],
        [['issues', 'silence', '1', '--for', '8h'], '--reason: say why'],
        [['issues', 'silence', '1', '--for', 'soon', '--reason', 'x'], '--for "soon"'],
        [
          ['issues', 'silence', '--for', '8h', '--reason', 'x'],
          'say what to silence: an issue id, a bouncer (name or glob, e.g. edge-*), a kind, a machine or a label',
        ],
        [['issues', 'silence', '--kind', 'bouncer_offlin', '--for', '8h', '--reason', 'x'], '--kind "bouncer_offlin": not an issue kind'],
        [['issues', 'silence', '--label', 'team=sre', '--for', '8h', '--reason', 'x'], '--label "team=sre": NAME=VALUE with NAME one of kind, criticality'],
        [
          ['issues', 'silence', '--bouncer', 'edge-*', '--start', '2026-12-08 02:00', '--for', '8h', '--reason', 'x'],
          '--start "2026-12-08 02:00": an RFC 3339 time with its zone',
        ],
        [['issues', 'silence', '--bouncer', 'edge-*', '--start', '2026-11-11T09:00:00Z', '--for', '8h', '--reason', 'x'], 'is in the past'],
        [
          ['issues', 'silence', '--bouncer', 'edge-*', '--start', '2026-11-11T12:00:00Z', '--in', '2h', '--for', '8h', '--reason', 'x'],
          '--start or --in, not both',
        ],
        [['issues', 'silence', '--bouncer', 'edge-*', '--every', 'day', '--for', '30d', '--reason', 'x'], '--every needs --at HH:MM and --lasting DURATION'],
        [
          ['issues', 'silence', '--bouncer', 'edge-*', '--every', 'day', '--at', '2:00', '--lasting', '30m', '--for', '30d', '--reason', 'x'],
          '--every at "2:00": a 24-hour time HH:MM',
        ],
        [
          ['issues', 'silence', '--bouncer', 'edge-*', '--every', 'day', '--at', '02:00', '--lasting', '30m', '--tz', 'Paris', '--for', '30d', '--reason', 'x'],
          '--every timezone "Paris": an IANA time zone',
        ],
        [['issues', 'silence', '--machine', 'agent-9', '--for', '8h', '--reason', 'x'], "machine 'agent-9' doesn't exist"],
        [['issues', 'silence', '99', '--for', '8h', '--reason', 'x'], "issue 99 doesn't exist"],
        [['issues', 'silence', '--bouncer', 'ghost', '--for', '8h', '--reason', 'x'], "bouncer 'ghost' doesn't exist"],
        [['issues', 'silence', 'abc', '--for', '8h', '--reason', 'x'], 'issue id "abc": use the number shown by \'vigil issues list\''],
        [['issues', 'ack', '99'], "issue 99 doesn't exist"],
        [['issues', 'unsilence', '7'], "silence 7 doesn't exist"],
      ];
      for (const [argv, message] of bad) {
        const r = await vigil(...argv);
        expect({ argv, code: r.code }).toEqual({ argv, code: 1 });
        expect(r.err).toContain(message);
      }
      expect(JSON.parse((await vigil('issues', 'silences', '--all', '-o', 'json')).out)).toEqual([]);
    });
  });
}
