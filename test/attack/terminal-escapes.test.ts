import { beforeAll, describe, expect, it } from 'vitest';
import { useVigilServe } from '../support/vigil-serve.ts';
import { loginMachine } from '../support/watcher-login.ts';

/**
 * A machine (an agent whose credentials leaked, or a compromised host) pushes an alert whose
 * scenario and decision fields hold terminal escape sequences: recolouring, clearing the screen,
 * retitling the window, writing the clipboard (OSC 52). Every human and raw output of the CLI the
 * operator then runs shows them as visible `\xHH` text; JSON stays JSON.
 */
const ESC = '\u001b';
const SCENARIO = `${ESC}[2J${ESC}]0;pwned${ESC}\\crowdsecurity/ssh-bf${ESC}]52;c;cm0gLXJmIC8=\u0007\u009b2J`;
const VALUE = '192.0.2.66';

describe('terminal escapes pushed by a machine', () => {
  const vigil = useVigilServe('vigil-escapes-');

  beforeAll(async () => {
    await vigil().cli('machines', 'add', 'agent', '--password', 'agent-password-0123456789');
    const ua = 'crowdsec/v1.4.6-6~deb12u1+b1-linux-debian';
    const token = await loginMachine(vigil().url, 'agent', 'agent-password-0123456789', ua);
    const now = new Date().toISOString();
    const alert = {
      capacity: 5,
      decisions: [{ duration: '4h', origin: 'crowdsec', scenario: SCENARIO, scope: 'Ip', type: `ban`, value: VALUE }],
      events: [],
      events_count: 6,
      labels: null,
      leakspeed: '10s',
      message: `${ESC}[31mIp ${VALUE} performed it`,
      remediation: true,
      scenario: SCENARIO,
      scenario_hash: 'x',
      scenario_version: '0.1',
      simulated: false,
      source: { ip: VALUE, range: '', scope: 'Ip', value: VALUE, as_name: `${ESC}[5mblink` },
      start_at: now,
      stop_at: now,
    };
    const pushed = await fetch(`${vigil().url}v1/alerts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'User-Agent': ua, 'Content-Type': 'application/json' },
      body: JSON.stringify([alert]),
    });
    expect(pushed.status).toBe(201);
  });

  it('decisions list (human and raw) prints them as visible text, never as escape sequences', async () => {
    const raw = await vigil().cli('decisions', 'list', '-o', 'raw');
    expect(raw).toContain(VALUE);
    expect(raw).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(raw).toContain('\\x1b[2J\\x1b]0;pwned\\x1b\\crowdsecurity/ssh-bf\\x1b]52;c;cm0gLXJmIC8=\\x07');
    const human = await vigil().cli('decisions', 'list');
    expect(human).toContain(VALUE);
    expect(human).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('JSON output keeps the exact text, JSON-escaped', async () => {
    const json = await vigil().cli('decisions', 'list', '-o', 'json');
    expect(json).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(JSON.stringify(JSON.parse(json))).toContain(JSON.stringify(SCENARIO).slice(1, -1));
  });
});
