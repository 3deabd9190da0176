import type { Criticality, IssueKind, LikelyCause } from '../health/types.ts';
import type { RunbookSettings } from '../health/runbook-settings.ts';

/**
 * What a message announces. `updated`: an announced open issue whose criticality rose or whose
 * likely cause changed (core/notify/plan.ts). `test` is `vigil notify test`, never stored.
 */
export type NotifyEvent = 'opened' | 'resolved' | 'reminder' | 'updated' | 'acknowledged' | 'test';

/** Which issues a channel hears about. An empty list means "all". */
export interface ChannelFilter {
  criticality: Criticality[];
  kinds: IssueKind[];
  /** Bouncer names, `*` matches any run of characters. Set: fleet-level issues are left out. */
  bouncers: string[];
}

/** Delivery tuning shared by every channel. */
export interface DeliverySettings {
  /** One attempt (connect, send, answer) may take this long. */
  timeoutMs: number;
  /** First retry after about this long, doubling up to retryMaxMs (with jitter). */
  retryInitialMs: number;
  retryMaxMs: number;
  /**
   * A message is retried until this long after it was queued, whatever the receiver answers (a
   * misconfigured receiver gets fixed); then it is `failed` and waits for `vigil notify retry`.
   */
  giveUpAfterMs: number;
}

/**
 * One issue as a message carries it: a snapshot taken when the message was queued, so a retry
 * days later sends exactly the same bytes.
 */
export interface IssueSnapshot {
  id: number;
  kind: IssueKind;
  title: string;
  criticality: Criticality;
  subject: string;
  bouncer: string | null;
  /** What the bouncer's runbook is built from (its family and kind). */
  bouncerType: string;
  bouncerKindOverride: 'firewall' | 'remediation' | null;
  summary: string;
  openedAt: number;
  since: number;
  lastSeenAt: number;
  resolvedAt: number | null;
  likelyCause: (LikelyCause & { text: string }) | null;
  causes: LikelyCause[];
  notes: string[];
  /** In an `updated` message: what this channel had been told before (criticality, likely cause in words). */
  previous?: { criticality: string; cause: string | null; causeText: string | null };
}

/** What is stored in the outbox: everything needed to render the message for any channel type. */
export interface MessageContent {
  event: NotifyEvent;
  createdAt: number;
  /** The Local API URL the runbooks name (where bouncers should pull from). */
  lapiUrl: string;
  /**
   * Where the dashboard's `/ui/` is served (`http://HOST:PORT`) when not on the Local API listener
   * (`admin_listen: HOST:PORT`, `vigil watch`'s listener). Absent: on the Local API's address.
   */
  dashboardUrl?: string;
  /** How runbooks address the Local API (`vigil watch`: CrowdSec's cscli); absent for Vigil's own. */
  runbookSettings?: RunbookSettings;
  issues: IssueSnapshot[];
  /** A large group is split in parts so no message grows without bound. */
  part: { index: number; of: number };
}

/** A message ready to send: its content and the id receivers use to drop duplicates. */
export interface OutgoingMessage {
  deliveryId: string;
  channel: string;
  content: MessageContent;
}
