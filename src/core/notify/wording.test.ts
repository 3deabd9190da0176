import { describe, expect, it } from 'vitest';
import { H, LAPI, T0, issue, message } from '../../../test/support/notify-messages.ts';
import { sampleMessage } from '../../notify/sample.ts';
import { humanDuration } from '../../lib/human-time.ts';
import { headline } from './wording.ts';
import { snapshotRunbook } from './snapshot.ts';

describe('wording', () => {
  it('names the group and splits long ones into parts', () => {
    const c = message('opened', [issue(), issue({ id: 9 })]).content;
    expect(headline({ ...c, part: { index: 2, of: 3 } })).toBe('2 issues opened: RC Integration Offline: bouncer web and 1 more (part 2 of 3)');
    expect(headline(sampleMessage(T0, LAPI))).toBe('Test notification from Vigil: this channel works');
    expect([45_000, 125_000, 3 * H, 26 * H, 49 * H].map(humanDuration)).toEqual(['45 s', '2 min 5 s', '3 h', '1 d 2 h', '2 d 1 h']);
  });

  it('names a machine issue and carries the machine runbook', () => {
    const lp = issue({
      kind: 'lp_offline',
      subject: 'machine:agent1',
      bouncerName: null,
      evidence: { causes: [{ cause: 'machine_bad_password', confidence: 'high', evidence: [] }], notes: [] },
    });
    const c = message('opened', [lp]).content;
    expect(headline(c)).toBe('CRITICAL: LP Offline: machine agent1');
    const runbook = snapshotRunbook(c.issues[0]!, c);
    expect(runbook?.title).toBe('LP Offline: `agent1` (CrowdSec agent)');
  });
});
