import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { freshDbUrl } from './support/databases.ts';
import { requestFrom } from './support/http-from.ts';
import { startServer, createLogger, type RunningServer } from '../src/app/serve.ts';
import { loadConfig } from '../src/config/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { manualAlert } from '../src/decisions/new-decisions.ts';
import { recordPullHours, hourOf, HOUR_MS } from '../src/store/pull-history.ts';
import { NotifyStore } from '../src/store/notify-store.ts';
import { createBouncer, setBouncerRevoked } from '../src/store/bouncers.ts';
import { activeDecisions, addDecisions } from '../src/store/decisions.ts';
import { usageReport, usageWindow } from './support/usage-report.ts';

/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core; no browser is
 * downloaded), against `vigil serve` started in-process on loopback with a manual clock: log in
 * (a wrong password refused), watch a bouncer turn offline live when offline_after passes, open
 * its issue, copy a runbook command, silence and acknowledge it, read the bouncer's page, look up
 * IPs and ranges, add and delete a decision with a confirmation, and use it on a phone-sized
 * screen. Screenshots of the main pages go to test-output/screenshots/ for a person to review.
 */
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve(import.meta.dirname, '..', 'test-output', 'screenshots');
const T0 = Date.UTC(2026, 10, 24, 9, 30, 0);
const MIN = 60_000;
const OFFLINE_AFTER = 10 * MIN;

const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing in CI: run scripts/install-chromium.sh`);
const suite = haveChromium ? describe : describe.skip;

const NGINX = { name: 'nginx-web', key: 'nginx-key-0123456789', ua: 'crowdsec-nginx-bouncer/v1.0.8', ip: '127.0.0.2' };
const FIREWALL = { name: 'fw-edge', key: 'fw-key-0123456789abc', ua: 'crowdsec-firewall-bouncer/v0.0.25', ip: '127.0.0.3' };

suite(`dashboard in a real browser${haveChromium ? '' : ' (skipped: Debian chromium not installed; run scripts/install-chromium.sh)'}`, () => {
  let server: RunningServer;
  let cleanup: () => Promise<void>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let ui: string;
  let password = '';
  let nginxIssue = 0;
  const clock = new ManualClock(T0);

  /** A bouncer's pull from its own loopback address (127.0.0.x), as health.test.ts sends them. */
  const pull = async (b: typeof NGINX, startup = false) =>
    (await requestFrom(`${server.url}/v1/decisions/stream?startup=${startup}`, { headers: { 'X-Api-Key': b.key, 'User-Agent': b.ua }, localAddress: b.ip }))
      .status;
  const shot = (name: string, p: Page = page, fullPage = true) => p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
  /** What the server would show now: the engine evaluates and open pages are told at once. */
  const evaluate = async () => {
    await server.activity.flush();
    await server.health.evaluateNow();
    await server.web.dashboard!.live.poll();
  };

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    const db = await freshDbUrl('sqlite');
    cleanup = db.cleanup;
    const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: 'off', adminListen: '127.0.0.1:0' }, env: {}, cwd: '/nonexistent' });
    config.health.evaluateEveryMs = 0;
    config.health.offlineAfterMs = OFFLINE_AFTER;
    server = await startServer(config, { clock, log: createLogger('silent'), firstStartPassword: (p) => (password = p) });
    ui = server.web.dashboardUrl!;

    // A small fleet: two that pull, one registered but never started, one revoked.
    const store = server.store;
    const created = clock.now() - 8 * 24 * 60 * MIN;
    for (const b of [NGINX, FIREWALL]) await createBouncer(store, { name: b.name, apiKeyHash: hashApiKey(b.key), now: created });
    await createBouncer(store, { name: 'app-never-started', apiKeyHash: hashApiKey('never-key-0123456789'), now: clock.now() - 2 * MIN });
    await createBouncer(store, { name: 'old-proxy', apiKeyHash: hashApiKey('old-key-0123456789ab'), now: created });
    await setBouncerRevoked(store, 'old-proxy', true, clock.now());
    expect(await pull(NGINX, true)).toBe(200);
    expect(await pull(FIREWALL, true)).toBe(200);
    // A week of history for the timelines: steady pulls every 10 s, with a 5-hour outage 3 days ago for nginx.
    const now = hourOf(clock.now());
    const history = [];
    for (let h = now - 7 * 24 * HOUR_MS; h < now; h += HOUR_MS) {
      const ago = (now - h) / HOUR_MS;
      if (!(ago >= 70 && ago < 75)) history.push({ bouncerId: 1, hour: h, pulls: 330 + (ago % 7) * 5 });
      history.push({ bouncerId: 2, hour: h, pulls: 360 });
    }
    await recordPullHours(store, history);
    // Usage metrics, as a CrowdSec ≥ 1.6.3 bouncer reports them.
    const report = usageReport(T0 - 26 * 60 * MIN, T0, { version: 'v1.0.8', type: 'crowdsec-nginx-bouncer', metrics: [usageWindow(T0, 1800, 42, 18250)] });
    expect(
      (
        await requestFrom(`${server.url}/v1/usage-metrics`, {
          method: 'POST',
          headers: { 'X-Api-Key': NGINX.key, 'User-Agent': NGINX.ua, 'Content-Type': 'application/json' },
          localAddress: NGINX.ip,
          body: JSON.stringify(report),
        })
      ).status,
    ).toBe(201);
    // Decisions, as the CLI writes them: a range and a single address.
    for (const [scope, value, reason] of [
      ['Range', '198.51.100.0/24', 'scanner network'],
      ['Ip', '203.0.113.9', 'ssh brute force'],
    ] as const) {
      await addDecisions(store, manualAlert({ now: clock.now(), scenario: reason, scope, value, count: 1, machineId: 'vigil' }), [
        { origin: 'cscli', type: 'ban', scope, value, scenario: reason, createdAt: clock.now(), until: clock.now() + 4 * 60 * MIN, simulated: false },
      ]);
    }
    await server.sync.refresh();
    await evaluate();

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Never reach out: no updates, no sync, no QUIC; a fresh profile per launch (playwright's temporary user-data-dir).
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(ui).origin });
    page = await context.newPage();
    page.setDefaultTimeout(5000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await cleanup?.();
  });

  it('prints a first-start password; refuses a wrong one; logs in with the right one', async () => {
    expect(password).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    await page.goto(ui);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await page.fill('#secret', 'not-the-password');
    await page.press('#secret', 'Enter');
    await page.locator('#login-error').waitFor();
    expect(await page.textContent('#login-error')).toBe('Wrong password or token.');
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await shot('01-login-refused');
    await page.fill('#secret', password);
    await page.click('button[type=submit]');
    await page.waitForURL(`${ui}`);
    await page.locator('#live-state.live-live').waitFor();
  });

  it('shows the fleet: a status word and colour per bouncer, open issues by criticality, pull timelines', async () => {
    const status = (name: string) => page.textContent(`tr[data-bouncer="${name}"] .status`);
    expect(await status(NGINX.name)).toBe('Healthy');
    expect(await status(FIREWALL.name)).toBe('Healthy');
    expect(await status('app-never-started')).toBe('Never pulled');
    expect(await status('old-proxy')).toBe('Revoked');
    expect(await page.getAttribute(`tr[data-bouncer="${NGINX.name}"] time`, 'title')).toMatch(/\(your time\) · 2026-11-24 09:30:00 UTC$/);
    expect(await page.getAttribute(`tr[data-bouncer="${NGINX.name}"] svg`, 'aria-label')).toBe(
      'nginx-web, last 24 hours: pulled in 24 of 24 hours, including this hour',
    );
    expect(await page.textContent('.card-critical .num')).toBe('0');
    await shot('02-fleet');
  });

  it('turns a bouncer offline live, without a reload, when offline_after passes with no pull', async () => {
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    clock.advance(OFFLINE_AFTER + 1000);
    expect(await pull(FIREWALL)).toBe(200); // the firewall keeps pulling
    for (let i = 0; i < 3; i++) {
      // nginx's key was rotated on the LAPI but not in its config: refused from its address.
      expect(
        (
          await requestFrom(`${server.url}/v1/decisions/stream?`, {
            headers: { 'X-Api-Key': 'stale-key-0123456789', 'User-Agent': NGINX.ua },
            localAddress: NGINX.ip,
          })
        ).status,
      ).toBe(403);
    }
    await evaluate();
    await page.locator(`tr[data-bouncer="${NGINX.name}"] .status-offline`).waitFor();
    expect(await page.textContent(`tr[data-bouncer="${FIREWALL.name}"] .status`)).toBe('Healthy');
    // The one registered 12 minutes ago and never started is offline too: two critical issues.
    expect(await page.textContent('.card-critical .num')).toBe('2');
    expect(await page.textContent('tr[data-bouncer="app-never-started"] .status')).toBe('Offline');
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    // Problems first.
    expect(await page.getAttribute('table.fleet tbody tr:first-child', 'data-status')).toBe('offline');
    await shot('03-fleet-offline-live');
  });

  it('opens the issue from the keyboard: likely cause, evidence, and a runbook whose commands copy', async () => {
    await page.locator(`tr[data-bouncer="${NGINX.name}"] a.issue-link`).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/ui\/issues\/\d+$/);
    expect(await page.textContent('h1')).toBe('RC Integration Offline: nginx-web');
    nginxIssue = Number(new URL(page.url()).pathname.split('/').pop());
    // Its own key refused and nothing succeeding since: failing open (src/core/health/fail-open.ts).
    expect(await page.textContent('.cause-title')).toContain('Authentication: the bouncer is failing open or blocked from updates');
    expect(await page.textContent('.evidence')).toContain('they carried a key the Local API does not know');
    const first = page.locator('.cmd').first();
    const command = (await first.locator('pre').textContent())!;
    expect(command.length).toBeGreaterThan(3);
    await first.locator('button.copy').click();
    await page.locator('#toast.toast-shown').waitFor();
    expect(await page.textContent('#toast')).toBe('Command copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(command);
    await shot('04-issue');
  });

  it('silences and acknowledges the issue from its page', async () => {
    const issueId = Number(new URL(page.url()).pathname.split('/').pop());
    await page.selectOption('#silence-for', '24h');
    await page.fill('#silence-reason', 'nginx being rebuilt');
    await page.click('.silence-form button[type=submit]');
    await page.locator('#issue-head .mark', { hasText: 'silenced until' }).waitFor();
    const silences = await new NotifyStore(server.store).silences(clock.now());
    expect(silences.map((s) => [s.issueId, s.reason, s.endsAt - s.createdAt])).toEqual([[issueId, 'nginx being rebuilt', 24 * 60 * MIN]]);
    await page.click('#issue-actions button:has-text("Acknowledge")');
    await page.locator('#issue-head .mark', { hasText: 'acknowledged' }).waitFor();
    await shot('05-issue-silenced');
    await page.goto(`${ui}issues`);
    expect(await page.textContent(`tr[data-issue="${issueId}"]`)).toContain('silenced');
    await shot('05b-issues');
  });

  it("shows a bouncer's page: pull timelines, refused requests, usage metrics", async () => {
    await page.goto(`${ui}bouncers/${NGINX.name}`);
    expect(await page.getAttribute('#bouncer-pulls svg >> nth=1', 'aria-label')).toBe('Last 7 days: pulled in 163 of 168 hours, including this hour');
    expect(await page.locator('#bouncer-refused tbody tr').count()).toBe(3);
    expect(await page.textContent('#bouncer-refused tbody tr')).toContain('unknown key');
    expect(await page.textContent('#bouncer-usage')).toContain('18,250');
    await shot('06-bouncer');
  });

  it('looks up an IP and a range: which decisions apply, and from where', async () => {
    await page.goto(`${ui}decisions`);
    expect(await page.textContent('#results-h')).toContain('Active decisions');
    await page.fill('#q', '198.51.100.7');
    await page.press('#q', 'Enter');
    await page.waitForURL(/q=198\.51\.100\.7/);
    expect(await page.textContent('.verdict')).toBe('Banned: 1 active decision applies to 198.51.100.7.');
    expect(await page.textContent('#decisions-results tbody')).toContain('Range:198.51.100.0/24');
    await page.fill('#q', '192.0.2.77');
    await page.press('#q', 'Enter');
    await page.waitForURL(/q=192\.0\.2\.77/);
    expect(await page.textContent('.verdict')).toBe('No active decision applies to 192.0.2.77.');
    await page.fill('#q', 'not-an-ip');
    await page.press('#q', 'Enter');
    await page.locator('#q-error').waitFor();
    expect(await page.textContent('#q-error')).toContain('is not an IPv4 or IPv6 address');
  });

  it('adds a decision after a confirmation, then deletes it after another', async () => {
    await page.goto(`${ui}decisions?q=192.0.2.77`);
    await page.fill('#add-duration', '2h');
    await page.fill('#add-reason', 'seen probing /wp-login.php');
    await page.click('#decision-add button[type=submit]');
    await page.locator('dialog#confirm[open]').waitFor();
    expect(await page.textContent('#confirm-text')).toBe('Add a ban decision on 192.0.2.77 for 2h? Bouncers enforce it at their next pull.');
    await shot('07-decision-confirm');
    await page.click('#confirm-ok');
    await page.locator('.verdict', { hasText: 'Banned' }).waitFor();
    const [added] = (await activeDecisions(server.store, clock.now())).filter((d) => d.value === '192.0.2.77');
    expect(added).toMatchObject({ scope: 'Ip', type: 'ban', scenario: 'seen probing /wp-login.php', until: clock.now() + 120 * MIN });
    await page.goto(`${ui}decisions?q=192.0.2.0%2F24`);
    expect(await page.textContent('.verdict')).toContain('1 applies to addresses or smaller ranges inside it');
    await shot('08-decisions-range');

    const del = page.locator(`tr[data-decision="${added!.id}"] button`);
    await del.click();
    await page.locator('dialog#confirm[open]').waitFor();
    await page.keyboard.press('Escape'); // cancelled: nothing deleted
    await page.locator('dialog#confirm:not([open])').waitFor({ state: 'attached' });
    expect((await activeDecisions(server.store, clock.now())).some((d) => d.id === added!.id)).toBe(true);
    await del.click();
    expect(await page.textContent('#confirm-text')).toContain(`Delete decision ${added!.id}: ban on Ip:192.0.2.77?`);
    await page.click('#confirm-ok');
    await page.locator(`tr[data-decision="${added!.id}"]`).waitFor({ state: 'detached' });
    expect((await activeDecisions(server.store, clock.now())).some((d) => d.id === added!.id)).toBe(false);
  });

  it('is usable from the keyboard and has readable contrast', async () => {
    await page.goto(ui);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    // WCAG AA: 4.5:1 for every status and criticality badge, computed from the rendered colours.
    const worst = await page.evaluate(() => {
      const lum = (rgb: string) => {
        const [r, g, b] = rgb
          .match(/\d+/g)!
          .slice(0, 3)
          .map((v) => {
            const c = Number(v) / 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
          });
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
      };
      let min = 21;
      for (const el of document.querySelectorAll('.status, .crit, .count, .top a, .top button')) {
        let bgEl: Element | null = el;
        let bg = getComputedStyle(el).backgroundColor;
        while (bgEl && /rgba\(0, 0, 0, 0\)|transparent/.test(bg)) {
          bgEl = bgEl.parentElement;
          bg = bgEl ? getComputedStyle(bgEl).backgroundColor : 'rgb(255, 255, 255)';
        }
        const [a, b] = [lum(getComputedStyle(el).color), lum(bg)].sort((x, y) => y - x);
        min = Math.min(min, (a! + 0.05) / (b! + 0.05));
      }
      return min;
    });
    expect(worst).toBeGreaterThanOrEqual(4.5);
  });

  it('fits a phone-sized screen', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(ui);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    expect(await phone.isVisible(`tr[data-bouncer="${NGINX.name}"] .status-offline`)).toBe(true);
    await shot('09-phone-fleet', phone);
    await phone.goto(`${ui}issues/${nginxIssue}`);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await shot('10-phone-issue', phone, false);
    await phone.close();
  });
});
