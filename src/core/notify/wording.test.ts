import { describe, expect, it } from 'vitest';
import { H, LAPI, T0, issue, message } from '../../../test/support/notify-messages.ts';
import { sampleMessage } from '../../notify/sample.ts';
import { humanDuration } from '../../lib/human-time.ts';
import { headline } from './wording.ts';

describe('wording', () => {
  it('names the group and splits long ones into parts', () => {
    const c = message('opened', [issue(), issue({ id: 9 })]).content;
    expect(headline({ ...c, part: { index: 2, of: 3 } })).toBe('2 issues opened: RC Integration Offline: bouncer web and 1 more (part 2 of 3)');
    expect(headline(sampleMessage(T0, LAPI))).toBe('Test notification from Vigil: this channel works');
    expect([45_000, 125_000, 3 * H, 26 * H, 49 * H].map(humanDuration)).toEqual(['45 s', '2 min 5 s', '3 h', '1 d 2 h', '2 d 1 h']);
  });
});
