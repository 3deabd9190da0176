// Captures the real CrowdSec 1.4.6 log lines the access-log parser is tested on (src/core/watch/access-log.test.ts):
// an isolated LAPI logging to files, a fixed sequence of requests, a restart a second later.
//   npx node scripts/capture-lapi-logs.ts   (needs the Debian crowdsec package: scripts/install-crowdsec.sh)
import fs from 'node:fs';
import path from 'node:path';
import { startCrowdsec } from '../test/support/crowdsec-instance.ts';

const out = path.join(import.meta.dirname, '..', 'test', 'fixtures', 'crowdsec-1.4.6');
const cs = await startCrowdsec({ logMedia: 'file' });
const key = await cs.addBouncer('custom');
const get = (p: string, ua: string, k?: string) => fetch(`${cs.url}${p}`, { headers: { 'User-Agent': ua, ...(k ? { 'X-Api-Key': k } : {}) } });
const CUSTOM = 'crowdsec-custom-bouncer/v0.0.15';
await get('v1/decisions/stream?startup=true', CUSTOM, key);
await get('v1/decisions/stream', CUSTOM, key);
await get('v1/decisions/stream', 'cs-firewall-bouncer/v0.0.28', 'wrong-key-0123456789');
await get('v1/decisions/stream', 'nokey/1.0');
await get('v1/decision/stream', CUSTOM, key);
await get('v1/decision/stream', CUSTOM, key);
const login = (id: string, pw: string) =>
  fetch(`${cs.url}v1/watchers/login`, {
    method: 'POST',
    headers: { 'User-Agent': 'crowdsec/v1.4.6', 'Content-Type': 'application/json' },
    body: JSON.stringify({ machine_id: id, password: pw, scenarios: [] }),
  });
await login('nobody', 'whatever-password');
await login('vigil-test-machine', 'not-its-password');
await cs.addDecision({ ip: '192.0.2.1', duration: '5m' });
await new Promise((r) => setTimeout(r, 1100));
await cs.stop();
await cs.start();
await get('v1/decisions/stream', CUSTOM, key);
await get('v1/decisions?ip=192.0.2.1', CUSTOM, key);
await cs.stop();
const api = fs.readFileSync(path.join(cs.logDir, 'crowdsec_api.log'), 'utf8');
const main = fs.readFileSync(path.join(cs.logDir, 'crowdsec.log'), 'utf8');
fs.writeFileSync(path.join(out, 'lapi-access.log'), api);
fs.writeFileSync(path.join(out, 'lapi-crowdsec.log'), main);
console.log(`wrote ${path.join(out, 'lapi-access.log')} and lapi-crowdsec.log`);
await cs.destroy();
