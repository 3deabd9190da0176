import { describe, expect, it } from 'vitest';
import { H, LAPI, T0, issue, message } from '../../../test/support/notify-messages.ts';
import { sampleMessage } from '../../notify/sample.ts';
import { humanDuration } from '../../lib/human-time.ts';
import { headline, issueChange } from './wording.ts';
import { snapshotRunbook } from './snapshot.ts';

describe('wording', () => {
  it('names the group and splits long ones into parts', () => {
    const c = message('opened', [issue(), issue({ id: 9 })]).content;
    expect(headline({ ...c, part: { index: 2, of: 3 } })).toBe('2 issues opened: RC Integration Offline: bouncer web and 1 more (part 2 of 3)');
    expect(headline(sampleMessage(T0, LAPI))).toBe('Test notification from Vigil: this channel works');
    expect([45_000, 125_000, 3 * H, 26 * H, 49 * H].map(humanDuration)).toEqual(['45 s', '2 min 5 s', '3 h', '1 d 2 h', '2 d 1 h']);
  });

  it('tells a rise and a fall apart: a fall says the component was heard from again', () => {
    const was = (criticality: string) => ({ criticality, cause: 'authentication', causeText: 'authentication failure' });
    const rise = message('updated', [issue()]).content;
    rise.issues[0]!.previous = was('warning');
    expect(headline(rise)).toBe('Now CRITICAL (was warning): RC Integration Offline: bouncer web');
    expect(issueChange(rise.issues[0]!)).toBe('Changed since the last message: criticality warning → critical.');
    const fall = message('updated', [issue({ kind: 'integration_late', criticality: 'warning' })]).content;
    fall.issues[0]!.previous = was('critical');
    expect(headline(fall)).toBe('Heard from again, now WARNING (was critical): Integration Late: bouncer web');
    expect(issueChange(fall.issues[0]!)).toBe(
      'Changed since the last message: criticality critical → warning (its own traffic resumed, but it is not back to normal).',
    );
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
