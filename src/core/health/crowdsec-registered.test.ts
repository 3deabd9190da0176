import { describe, expect, it } from 'vitest';
import { crowdsecRegisteredEvidence } from './crowdsec-registered.ts';

describe("a refused key registered in CrowdSec's own database", () => {
  it('names the bouncer and the fix, once per name; nothing when CrowdSec does not have the key', () => {
    expect(crowdsecRegisteredEvidence([{}, { crowdsecBouncerName: undefined }])).toEqual([]);
    const lines = crowdsecRegisteredEvidence([{ crowdsecBouncerName: 'cs-fw-1' }, { crowdsecBouncerName: 'cs-fw-1' }, { crowdsecBouncerName: 'cs-fw-2' }]);
    expect(lines[0]).toBe(
      "the refused key is registered in CrowdSec's own database as bouncer 'cs-fw-1' (and 'cs-fw-2'), not in Vigil's: it was added with cscli bouncers add (a bouncer package's postinst does that) after the switch to Vigil",
    );
    expect(lines[1]).toBe(
      "fix: register that key with Vigil: sudo vigil bouncers add cs-fw-1 --key KEY, with KEY the api_key in the bouncer's configuration (or run vigil import crowdsec again); then restart the bouncer",
    );
  });
});
