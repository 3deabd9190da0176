/**
 * Plain records the store hands out. Times are epoch milliseconds (UTC) everywhere inside Vigil;
 * formatting to RFC 3339 or Go durations happens only at the edges (CLI, HTTP).
 */

export type AuthType = 'api-key' | 'tls';

/** Operator override of what a bouncer is; null = decided from its type (User-Agent). */
export type BouncerKind = 'firewall' | 'remediation';

export interface Bouncer {
  id: number;
  name: string;
  /** SHA-512 of the key, 128 lowercase hex characters, as CrowdSec stores it. */
  apiKeyHash: string;
  revoked: boolean;
  /** TCP peer of the last authenticated request; '' before the first one. */
  ipAddress: string;
  /** From the User-Agent, split as CrowdSec does; '' before the first request. */
  type: string;
  version: string;
  authType: AuthType;
  createdAt: number;
  updatedAt: number;
  /** Last decisions pull; null until the first pull. */
  lastPullAt: number | null;
  /**
   * The decisions revision the last stream pull had seen: the delta cursor. A revision, not a
   * time, so a decision committed after its creation time (a long import) is never skipped.
   */
  lastPullRev: number | null;
  /** Last authenticated request of any kind (HEAD included); null until the first. */
  lastRequestAt: number | null;
  kindOverride: BouncerKind | null;
  /** Median interval between stream pulls when the bouncer pulls on a steady cadence; null otherwise. */
  pullCadenceMs: number | null;
  /**
   * Created by the Local API, not by an operator: `NAME@IP` for a shared key seen from a new address,
   * or `CN@IP` for a client certificate (CrowdSec 1.6.4+, docs/reference/crowdsec-1.6-1.7.md §1, §2).
   */
  autoCreated: boolean;
}

/** A change of a bouncer's IP, type or version, as the Local API saw it. */
export interface BouncerChange {
  readonly bouncerId: number;
  readonly at: number;
  readonly field: 'ip' | 'type' | 'version';
  readonly oldValue: string;
  readonly newValue: string;
}

export interface Decision {
  readonly id: number;
  readonly alertId: number | null;
  readonly origin: string;
  /** ban, captcha, or a custom remediation. */
  readonly type: string;
  /** Ip, Range, or any other scope as typed (Country, username, …). */
  readonly scope: string;
  readonly value: string;
  readonly scenario: string;
  readonly createdAt: number;
  /** Expiry; a soft delete moves it to the deletion time, as CrowdSec does. */
  readonly until: number;
  /** Set when deleted by an operator (CLI/API) rather than expired. */
  readonly deletedAt: number | null;
  readonly simulated: boolean;
}

/** The alert a group of decisions was created under (cscli shows decisions through alerts). */
export interface Alert {
  readonly id: number;
  readonly createdAt: number;
  readonly scenario: string;
  readonly message: string;
  readonly machineId: string;
  readonly sourceScope: string;
  readonly sourceValue: string;
  readonly sourceIp: string;
  readonly eventsCount: number;
  readonly leakspeed: string;
  readonly startAt: number;
  readonly stopAt: number;
  readonly simulated: boolean;
}

/**
 * What CrowdSec's alerts carry beyond `Alert`, so a pushed alert reads back as sent (migration 008).
 * The CLI's own alerts keep the defaults (0, '', false, '{}').
 */
export interface AlertDetails {
  readonly capacity: number;
  readonly scenarioHash: string;
  readonly scenarioVersion: string;
  readonly remediation: boolean;
  /** 1.7.7+ `kind` (`cscli`, `crowdsec`…); '' when the client sent none. */
  readonly kind: string;
  /** JSON text: labels, events, meta, uuid, and the source's as_name/as_number/cn/range/latitude/longitude. */
  readonly extra: string;
}

export interface AlertWithDecisions {
  readonly alert: Alert;
  readonly decisions: Decision[];
}

/** A request the Local API refused for authentication; kept (bounded) to explain silences. */
export interface RefusedRequest {
  readonly id: number;
  readonly at: number;
  readonly peerIp: string;
  readonly userAgent: string;
  readonly method: string;
  readonly path: string;
  /** 'missing' | 'unknown' | 'revoked' */
  readonly reason: string;
  /** Non-reversible fingerprint of the key sent (first 12 hex of an HMAC), '' when none was sent. */
  readonly keyFingerprint: string;
  /** The bouncer the key belonged to, when the reason is 'revoked'. */
  readonly bouncerName: string;
}

/** What was refused from one address with one User-Agent for one reason. */
export interface RefusedSummary {
  peerIp: string;
  userAgent: string;
  /** 'missing' | 'unknown' | 'revoked' | 'wrong-path' */
  reason: string;
  /** The first key's fingerprint ('' when none was sent); see `severalKeys`. */
  keyFingerprint: string;
  /** True once two different keys (or a key and no key) came: a stale key is one key, a scan is many. */
  severalKeys: boolean;
  /** The bouncer the key belonged to (reason 'revoked'), latest seen. */
  bouncerName: string;
  /**
   * The bouncer CrowdSec's own database has this key for, when Vigil could read it (health/engine.ts):
   * registered with cscli after the switch (core/health/crowdsec-registered.ts).
   */
  crowdsecBouncerName?: string;
  /** The latest request's method and path. */
  method: string;
  path: string;
  firstAt: number;
  lastAt: number;
  count: number;
}

/** How a machine (a CrowdSec agent or cscli) proves who it is: a password (bcrypt), or a client certificate. */
export type MachineAuthType = 'password' | 'tls';

/**
 * A watcher ("machine"): a CrowdSec Security Engine agent or cscli that logs in with a password
 * (or a client certificate), sends heartbeats and pushes alerts (docs/reference/crowdsec-1.6-1.7.md §8).
 */
export interface Machine {
  readonly id: number;
  /** The login name (`machine_id` in CrowdSec's API; `Name` in cscli machines list). */
  readonly machineId: string;
  /** bcrypt hash of the password, as CrowdSec stores it; '' for TLS machines. */
  readonly passwordHash: string;
  /** Address of the last login; '' before the first. */
  readonly ipAddress: string;
  /** From the login User-Agent (`crowdsec/<version>`); '' before the first login. */
  readonly version: string;
  /** The scenarios the agent announced at its last login, comma-joined as CrowdSec stores them. */
  readonly scenarios: string;
  /** Only validated machines may log in (`machines validate`, or auto-registration with a token). */
  readonly isValidated: boolean;
  readonly authType: MachineAuthType;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Last successful login; null until the first. */
  readonly lastLoginAt: number | null;
  /** Last GET /v1/heartbeat; null until the first. */
  readonly lastHeartbeatAt: number | null;
  /** Last POST /v1/alerts; null until the first. */
  readonly lastPushAt: number | null;
  /** Median interval between heartbeats when steady (the agent sends one every 60 s); null otherwise. */
  readonly heartbeatCadenceMs: number | null;
}

/** A decision to write (the store gives it its id, alert and revision). */
export type NewDecision = Omit<Decision, 'id' | 'alertId' | 'deletedAt'>;
/** An alert to write; the CrowdSec details (migration 008) default for the CLI's own alerts. */
export type NewAlert = Omit<Alert, 'id'> & Partial<AlertDetails>;
export interface NewAlertWithDecisions {
  readonly alert: NewAlert;
  readonly decisions: NewDecision[];
}
