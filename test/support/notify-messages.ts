import type { HealthIssue } from '../../src/core/model/health-issue.ts';
import { snapshotIssue } from '../../src/core/notify/snapshot.ts';
import type { MessageContent, OutgoingMessage } from '../../src/core/notify/types.ts';

// Fixtures of the notification renderers' tests (src/notify/channels/*/render.test.ts): one bouncer issue and the message that carries it.

export const T0 = Date.UTC(2026, 10, 6, 12, 0, 0);
export const H = 3600_000;
export const LAPI = 'http://127.0.0.1:8080/';

// Names come from operators and types from any client holding a key: markup must stay text.
export const hostile = '<script>alert(1)</script> & `rm -rf`';

export function issue(over: Partial<HealthIssue> = {}): HealthIssue {
  return {
    id: 7,
    kind: 'rc_integration_offline',
    criticality: 'critical',
    subject: 'bouncer:web',
    bouncerName: 'web',
    openedAt: T0,
    lastSeenAt: T0,
    resolvedAt: null,
    since: T0 - 25 * H,
    summary: `bouncer 'web' (${hostile}) has not pulled decisions for 25h0m0s`,
    evidence: {
      causes: [{ cause: 'authentication', confidence: 'high', evidence: ['3 requests refused with an unknown key from 192.0.2.7'] }],
      notes: ['its IP changed from 192.0.2.6 to 192.0.2.7 just before'],
    },
    ...over,
  };
}

export function message(event: MessageContent['event'], issues: HealthIssue[], createdAt = T0): OutgoingMessage {
  return {
    deliveryId: '11111111-2222-4333-8444-555555555555',
    channel: 'ops',
    content: { event, createdAt, lapiUrl: LAPI, issues: issues.map((i) => snapshotIssue(i, undefined)), part: { index: 1, of: 1 } },
  };
}
