import type { HealthIssue } from '../core/model/health-issue.ts';
import type { Bouncer } from '../core/model/records.ts';
import { snapshotIssue } from '../core/notify/snapshot.ts';
import type { MessageContent } from '../core/notify/types.ts';

/** What `vigil notify test` sends: a made-up issue, marked as a test, in the real message format. */
export function sampleMessage(now: number, lapiUrl: string): MessageContent {
  const since = now - 24 * 3600_000 - 60_000;
  const issue: HealthIssue = {
    id: 0,
    kind: 'rc_integration_offline',
    criticality: 'critical',
    subject: 'bouncer:example-bouncer',
    bouncerName: 'example-bouncer',
    openedAt: now,
    lastSeenAt: now,
    resolvedAt: null,
    since,
    summary: "TEST, not a real issue: bouncer 'example-bouncer' (crowdsec-nginx-bouncer) has not pulled decisions for 24h1m0s",
    evidence: {
      causes: [{ cause: 'stopped_or_network', confidence: 'medium', evidence: ['no request of any kind from it since its last pull (a sample line)'] }],
      notes: [],
    },
  };
  const bouncer: Bouncer = {
    id: 0,
    name: 'example-bouncer',
    apiKeyHash: '',
    revoked: false,
    ipAddress: '192.0.2.10',
    type: 'crowdsec-nginx-bouncer',
    version: 'v1.0.8',
    authType: 'api-key',
    createdAt: since,
    updatedAt: since,
    lastPullAt: since,
    lastPullRev: null,
    lastRequestAt: since,
    kindOverride: null,
    pullCadenceMs: null,
    autoCreated: false,
  };
  return { event: 'test', createdAt: now, lapiUrl, issues: [snapshotIssue(issue, bouncer)], part: { index: 1, of: 1 } };
}
