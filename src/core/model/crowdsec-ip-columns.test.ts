import { describe, expect, it } from 'vitest';
import { crowdsecIpColumns } from './crowdsec-ip-columns.ts';

/** Rows the real CrowdSec 1.4.6 LAPI wrote for `cscli decisions add` (SQLite, read back with sqlite3). */
const WRITTEN_BY_CROWDSEC_146: Array<[string, string, number, string, string, string, string]> = [
  ['Ip', '192.0.2.9', 4, '-9223372033633549814', '-9223372033633549814', '-9223372036854775807', '-9223372036854775807'],
  ['Range', '198.51.100.0/24', 4, '-9223372033529519103', '-9223372033529518848', '-9223372036854775807', '-9223372036854775807'],
  ['Ip', '2001:db8::5', 16, '-6917232468739227647', '-6917232468739227647', '-9223372036854775802', '-9223372036854775802'],
  ['Range', '2001:db8:77::/48', 16, '-6917232468731428863', '-6917232468731363328', '-9223372036854775807', '9223372036854775807'],
  ['Ip', '255.255.255.255', 4, '-9223372032559808512', '-9223372032559808512', '-9223372036854775807', '-9223372036854775807'],
  ['Ip', '0.0.0.1', 4, '-9223372036854775806', '-9223372036854775806', '-9223372036854775807', '-9223372036854775807'],
  ['Range', '10.0.0.0/8', 4, '-9223372036687003647', '-9223372036670226432', '-9223372036854775807', '-9223372036854775807'],
  ['Ip', '::1', 16, '-9223372036854775807', '-9223372036854775807', '-9223372036854775806', '-9223372036854775806'],
  ['Ip', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 16, '9223372036854775807', '9223372036854775807', '9223372036854775807', '9223372036854775807'],
  ['Country', 'FR', 0, '0', '0', '0', '0'],
];

describe('crowdsecIpColumns', () => {
  for (const [scope, value, size, startIp, endIp, startSuffix, endSuffix] of WRITTEN_BY_CROWDSEC_146) {
    it(`${scope} ${value}: what CrowdSec 1.4.6 itself stored`, () => {
      const c = crowdsecIpColumns(scope, value);
      expect([c.ipSize, String(c.startIp), String(c.endIp), String(c.startSuffix), String(c.endSuffix)]).toEqual([
        size,
        startIp,
        endIp,
        startSuffix,
        endSuffix,
      ]);
    });
  }
  it('a value that is not an address stores zeros, as any other scope', () => {
    expect(crowdsecIpColumns('Ip', 'not-an-ip').ipSize).toBe(0);
  });
});
