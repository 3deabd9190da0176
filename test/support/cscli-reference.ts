/**
 * cscli's human output, verbatim from docs/reference/crowdsec-wire-protocol.md §2 and §3: the
 * golden strings the formatter tests compare against, kept in one place.
 */

/** `cscli bouncers list`, before any pull. */
export const BOUNCERS_BEFORE_PULLS = `---------------------------------------------------------------------------------------------------------------------------
 Name                                               IP Address   Valid   Last API pull          Type   Version   Auth Type 
---------------------------------------------------------------------------------------------------------------------------
 FirewallBouncer-9EBoeUleDMRsN2aATeF1KGcI1kwQ9ce3                ✔️       2026-11-24T04:16:55Z                    api-key   
 CustomBouncer-TUAcCJY0EfZI1l0J0s0e6Wu3w2hAhVCz                  ✔️       2026-11-24T04:17:03Z                    api-key   
---------------------------------------------------------------------------------------------------------------------------
`;

/** `cscli bouncers list`, after the real bouncers and curl pulled. */
export const BOUNCERS_AFTER_PULLS = `------------------------------------------------------------------------------------------------------------------------------------------------
 Name                                               IP Address   Valid   Last API pull          Type                        Version   Auth Type 
------------------------------------------------------------------------------------------------------------------------------------------------
 FirewallBouncer-9EBoeUleDMRsN2aATeF1KGcI1kwQ9ce3   127.0.0.1    ✔️       2026-11-24T04:19:58Z   crowdsec-firewall-bouncer   -         api-key   
 CustomBouncer-TUAcCJY0EfZI1l0J0s0e6Wu3w2hAhVCz     127.0.0.1    ✔️       2026-11-24T04:19:58Z   crowdsec-custom-bouncer     -         api-key   
 testbouncer1                                       127.0.0.1    ✔️       2026-11-24T04:18:35Z   curl                        7.88.1    api-key   
 testbouncer2                                       127.0.0.1    ✔️       2026-11-24T04:18:43Z   curl                        7.88.1    api-key   
 testbouncer3                                       127.0.0.1    ✔️       2026-11-24T04:18:57Z   x                           1         api-key   
 keyed                                                           ✔️       2026-11-24T04:17:15Z                                         api-key   
------------------------------------------------------------------------------------------------------------------------------------------------
`;

/** `cscli decisions list`. */
export const DECISIONS_HUMAN = `+----+--------+-----------------------+----------------------------------------------------------+---------+---------+----+--------+--------------------+----------+
| ID | Source |      Scope:Value      |                          Reason                          | Action  | Country | AS | Events |     expiration     | Alert ID |
+----+--------+-----------------------+----------------------------------------------------------+---------+---------+----+--------+--------------------+----------+
| 7  | cscli  | Country:FR            | manual 'ban' from '3d1219c7c4c5404aaa1f6d2a48adfda4'     | ban     |         |    | 1      | 3h59m53.512773607s | 7        |
| 6  | cscli  | Range:2001:db8:1::/48 | manual 'ban' from '3d1219c7c4c5404aaa1f6d2a48adfda4'     | ban     |         |    | 1      | 9m53.512768215s    | 6        |
| 5  | cscli  | Ip:2001:db8::1        | manual 'ban' from '3d1219c7c4c5404aaa1f6d2a48adfda4'     | ban     |         |    | 1      | 9m52.51276522s     | 5        |
| 4  | cscli  | username:foobar       | usertest                                                 | ban     |         |    | 1      | 3h59m52.512762546s | 4        |
| 3  | cscli  | Ip:192.0.2.2          | manual 'captcha' from '3d1219c7c4c5404aaa1f6d2a48adfda4' | captcha |         |    | 1      | 1h59m52.51276004s  | 3        |
| 2  | cscli  | Range:198.51.100.0/24 | rangetest                                                | ban     |         |    | 1      | 59m52.512757445s   | 2        |
| 1  | cscli  | Ip:192.0.2.1          | test                                                     | ban     |         |    | 1      | 4m52.512755s       | 1        |
+----+--------+-----------------------+----------------------------------------------------------+---------+---------+----+--------+--------------------+----------+
`;

/** `cscli machines list` (docs/reference/crowdsec-wire-protocol.md §5). */
export const MACHINES_LIST = `-----------------------------------------------------------------------------------------------------------------------------------------------
 Name                               IP Address   Last Update            Status   Version                            Auth Type   Last Heartbeat 
-----------------------------------------------------------------------------------------------------------------------------------------------
 3d1219c7c4c5404aaa1f6d2a48adfda4   127.0.0.1    2026-11-24T04:19:45Z   ✔️        v1.4.6-6~deb12u1+b1-linux-debian   password    1m50s          
-----------------------------------------------------------------------------------------------------------------------------------------------
`;

/** `cscli machines list -o json` (§5). */
export const MACHINES_LIST_JSON = `[
  {
    "id": 1,
    "created_at": "2026-11-24T04:19:45.611047375Z",
    "updated_at": "2026-11-24T04:19:45.611048114Z",
    "last_push": "2026-11-24T04:19:45.611048275Z",
    "last_heartbeat": "2026-11-24T04:19:45.611048411Z",
    "machineId": "3d1219c7c4c5404aaa1f6d2a48adfda4",
    "ipAddress": "127.0.0.1",
    "version": "v1.4.6-6~deb12u1+b1-linux-debian",
    "isValidated": true,
    "auth_type": "password",
    "edges": {}
  }
]
`;

/** `cscli machines list -o raw` (§5). */
export const MACHINES_LIST_RAW = `machine_id,ip_address,updated_at,validated,version,auth_type,last_heartbeat
3d1219c7c4c5404aaa1f6d2a48adfda4,127.0.0.1,2026-11-24T04:21:36Z,true,7.88.1,password,0s
newmachine1,127.0.0.1,2026-11-24T04:21:36Z,false,,password,0s
`;
