import type { RefusedSummary } from '../model/records.ts';

/**
 * A bouncer package installed after the switch to Vigil registers itself with `cscli bouncers add`
 * (its postinst), which writes into CrowdSec's own database, not Vigil's: its key is then refused.
 * The refused key's fingerprint found among CrowdSec's keys (`RefusedSummary.crowdsecBouncerName`,
 * set by the health engine) names that case and its fix. Pure.
 */
export function crowdsecRegisteredEvidence(rows: readonly Pick<RefusedSummary, 'crowdsecBouncerName'>[]): string[] {
  const names = [...new Set(rows.map((r) => r.crowdsecBouncerName).filter((n): n is string => !!n))];
  if (names.length === 0) return [];
  const name = names[0]!;
  return [
    `the refused key is registered in CrowdSec's own database as bouncer '${name}'${
      names.length > 1
        ? ` (and ${names
            .slice(1)
            .map((n) => `'${n}'`)
            .join(', ')})`
        : ''
    }, not in Vigil's: it was added with cscli bouncers add (a bouncer package's postinst does that) after the switch to Vigil`,
    `fix: register that key with Vigil: sudo vigil bouncers add ${name} --key KEY, with KEY the api_key in the bouncer's configuration (or run vigil import crowdsec again); then restart the bouncer`,
  ];
}
