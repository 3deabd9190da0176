import { parseBool, parseCrowdsecTime, text } from './crowdsec-bouncer.ts';

/**
 * What `vigil import crowdsec` takes from CrowdSec's database so an existing stack switches to
 * Vigil unchanged: bouncers with their key hashes (CrowdSec and Vigil both keep SHA-512 hex, so
 * every bouncer's key keeps working), machines with their bcrypt hashes (the agent's
 * credentials file keeps working) and the active decisions (so stream bouncers later receive
 * their expiry). Pure: rows in, a plan and the rows it had to leave out (with why) out.
 */
export interface ImportedBouncer {
  name: string;
  apiKeyHash: string;
  ipAddress: string;
  type: string;
  version: string;
  revoked: boolean;
  authType: 'api-key' | 'tls';
  autoCreated: boolean;
}

export interface ImportedMachine {
  machineId: string;
  passwordHash: string;
  ipAddress: string;
  version: string;
  isValidated: boolean;
  authType: 'password' | 'tls';
}

export interface ImportedDecision {
  origin: string;
  type: string;
  scope: string;
  value: string;
  scenario: string;
  until: number;
  simulated: boolean;
}

export interface CrowdsecImportPlan {
  bouncers: ImportedBouncer[];
  machines: ImportedMachine[];
  decisions: ImportedDecision[];
  /** One line per row left out, naming it and why. */
  skipped: string[];
}

const SHA512_HEX = /^[0-9a-f]{128}$/;
/** Go's bcrypt writes $2a$; $2b$/$2y$ verify the same. */
const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

export function planCrowdsecImport(
  rows: { bouncers: Record<string, unknown>[]; machines: Record<string, unknown>[]; decisions: Record<string, unknown>[] },
  now: number,
): CrowdsecImportPlan {
  const plan: CrowdsecImportPlan = { bouncers: [], machines: [], decisions: [], skipped: [] };
  for (const r of rows.bouncers) {
    const name = text(r.name);
    const apiKeyHash = text(r.api_key).toLowerCase();
    const authType = text(r.auth_type) || 'api-key';
    if (!name) {
      plan.skipped.push('bouncer without a name');
      continue;
    }
    if (authType !== 'api-key' && authType !== 'tls') {
      plan.skipped.push(`bouncer ${name}: auth type "${authType}" is not api-key or tls`);
      continue;
    }
    if (!SHA512_HEX.test(apiKeyHash)) {
      plan.skipped.push(`bouncer ${name}: its api_key column is not a SHA-512 hash; add it again with vigil bouncers add ${name} -k KEY`);
      continue;
    }
    plan.bouncers.push({
      name,
      apiKeyHash,
      ipAddress: text(r.ip_address),
      type: text(r.type),
      version: text(r.version),
      revoked: parseBool(r.revoked),
      authType,
      // 1.4–1.6.3 have no column: a `NAME@IP` row of a shared key still behaves as one.
      autoCreated: parseBool(r.auto_created),
    });
  }
  for (const r of rows.machines) {
    const machineId = text(r.machine_id);
    const authType = text(r.auth_type) || 'password';
    const passwordHash = text(r.password);
    if (!machineId) {
      plan.skipped.push('machine without a machine_id');
      continue;
    }
    if (authType !== 'password' && authType !== 'tls') {
      plan.skipped.push(`machine ${machineId}: auth type "${authType}" is not password or tls`);
      continue;
    }
    if (authType === 'password' && !BCRYPT.test(passwordHash)) {
      plan.skipped.push(`machine ${machineId}: its password column is not a bcrypt hash; add it again with vigil machines add ${machineId} --auto -f FILE`);
      continue;
    }
    plan.machines.push({
      machineId,
      passwordHash: authType === 'tls' ? '' : passwordHash,
      ipAddress: text(r.ip_address),
      version: text(r.version),
      isValidated: parseBool(r.is_validated),
      authType,
    });
  }
  let expired = 0;
  for (const r of rows.decisions) {
    const until = parseCrowdsecTime(r.until);
    if (until === null || until <= now) {
      expired++;
      continue;
    }
    plan.decisions.push({
      origin: text(r.origin),
      type: text(r.type),
      scope: text(r.scope),
      value: text(r.value),
      scenario: text(r.scenario),
      until,
      simulated: parseBool(r.simulated),
    });
  }
  if (expired > 0) plan.skipped.push(`${expired} expired or deleted decision(s): nothing to enforce`);
  return plan;
}
