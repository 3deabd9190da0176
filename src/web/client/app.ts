/// <reference lib="dom" />
/**
 * The dashboard's browser script (erasable TypeScript, stripped by the server; no library, no
 * build). Pages are rendered by the server; this script keeps them live and runs the actions:
 * - live updates: the server's event stream says "refresh", the page fetches itself again and
 *   swaps the regions marked `data-live` (never one the user is typing in);
 * - forms marked `data-api="METHOD"` are sent as JSON with the session's CSRF token, after a
 *   confirmation dialog when they carry `data-confirm`;
 * - copy buttons, and exact local times on hover.
 */

const csrfToken = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
const liveState = document.getElementById('live-state');
const toastBox = document.getElementById('toast');

function setLiveState(state: 'live' | 'connecting' | 'offline', text: string): void {
  if (!liveState) return;
  liveState.className = `live live-${state}`;
  liveState.textContent = text;
}

function toast(text: string): void {
  if (!toastBox) return;
  toastBox.textContent = text;
  toastBox.classList.add('toast-shown');
  window.setTimeout(() => {
    if (toastBox.textContent === text) toastBox.classList.remove('toast-shown');
  }, 4000);
}

function goToLogin(): void {
  location.assign(`/ui/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}

// ---------------------------------------------------------------------------- times

function localizeTimes(root: ParentNode): void {
  for (const t of root.querySelectorAll<HTMLTimeElement>('time[datetime]')) {
    const d = new Date(t.dateTime);
    if (Number.isNaN(d.getTime())) continue;
    t.title = `${d.toLocaleString()} (your time) · ${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  }
}

// ---------------------------------------------------------------------------- live regions

let refreshing: Promise<void> | null = null;
let refreshAgain = false;

/** Fetches the page again and swaps its live regions; concurrent calls collapse into one more. */
function refreshLive(force = false): Promise<void> {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      do {
        refreshAgain = false;
        await swapLiveRegions(force);
      } while (refreshAgain);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function swapLiveRegions(force: boolean): Promise<void> {
  const res = await fetch(location.pathname + location.search, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
  if (res.redirected && new URL(res.url).pathname === '/ui/login') return goToLogin();
  if (!(res.headers.get('Content-Type') ?? '').startsWith('text/html')) return;
  const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
  const active = document.activeElement;
  for (const region of document.querySelectorAll<HTMLElement>('[data-live][id]')) {
    const fresh = doc.getElementById(region.id);
    if (!fresh) continue;
    // Never pull a field out from under someone typing in it; the next refresh will catch up.
    if (!force && active && region.contains(active) && active.matches('input, select, textarea')) continue;
    if (region.innerHTML === fresh.innerHTML) continue;
    const focusKey = active && region.contains(active) ? keyOf(active) : null;
    region.replaceWith(fresh);
    localizeTimes(fresh);
    if (focusKey) {
      const again = [...fresh.querySelectorAll<HTMLElement>('a, button, input, select, textarea')].find((el) => keyOf(el) === focusKey);
      again?.focus();
    }
  }
  document.title = doc.title;
}

/** Enough to find "the same" control again after its region was re-rendered. */
function keyOf(el: Element): string {
  return [
    el.tagName,
    el.id,
    el.getAttribute('href') ?? '',
    el.getAttribute('name') ?? '',
    el.getAttribute('aria-label') ?? '',
    el.textContent?.trim() ?? '',
  ].join('|');
}

function connectLive(): void {
  if (!('EventSource' in window)) {
    setLiveState('offline', 'Live updates unavailable: reload to refresh');
    return;
  }
  const events = new EventSource('/ui/events');
  events.addEventListener('hello', () => {
    setLiveState('live', 'Live');
    // Anything that changed while (re)connecting.
    void refreshLive();
  });
  events.addEventListener('refresh', () => void refreshLive());
  events.addEventListener('expired', () => {
    events.close();
    goToLogin();
  });
  events.addEventListener('error', () => {
    if (events.readyState === EventSource.CLOSED) {
      // Refused (logged out, or the server is gone): find out which, and retry later.
      setLiveState('offline', 'Disconnected: retrying…');
      window.setTimeout(async () => {
        const res = await fetch('/ui/api/session', { credentials: 'same-origin' }).catch(() => null);
        if (res?.status === 401) return goToLogin();
        connectLive();
      }, 5000);
    } else {
      setLiveState('connecting', 'Reconnecting…');
    }
  });
}

// ---------------------------------------------------------------------------- confirmation

function confirmAction(message: string, okLabel = 'Confirm'): Promise<boolean> {
  const dialog = document.getElementById('confirm') as HTMLDialogElement | null;
  const text = document.getElementById('confirm-text');
  const ok = document.getElementById('confirm-ok');
  if (!dialog || !text || typeof dialog.showModal !== 'function') return Promise.resolve(window.confirm(message));
  text.textContent = message;
  if (ok) ok.textContent = okLabel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
  });
}

/** `{field}` in a confirmation message is the form's current value of that field. */
function fillIn(template: string, form: HTMLFormElement): string {
  const data = new FormData(form);
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(data.get(name) ?? ''));
}

// ---------------------------------------------------------------------------- actions

async function runApiForm(form: HTMLFormElement, submitter: HTMLElement | null): Promise<void> {
  const method = (form.dataset.api ?? 'POST').toUpperCase();
  const errorBox = form.querySelector<HTMLElement>('.form-error');
  if (errorBox) errorBox.textContent = '';
  if (form.dataset.confirm && !(await confirmAction(fillIn(form.dataset.confirm, form), form.dataset.confirmOk))) return;
  const body: Record<string, string> = {};
  for (const [k, v] of new FormData(form)) if (typeof v === 'string') body[k] = v;
  const button = submitter instanceof HTMLButtonElement ? submitter : form.querySelector('button');
  if (button) button.disabled = true;
  try {
    const res = await fetch(form.action, {
      method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken, Accept: 'application/json' },
      body: method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify(body),
    });
    if (res.status === 401) return goToLogin();
    if (!res.ok) {
      const message = ((await res.json().catch(() => ({}))) as { message?: string }).message ?? `failed (HTTP ${res.status})`;
      if (errorBox) errorBox.textContent = message;
      else toast(message);
      return;
    }
    toast(form.dataset.done ?? 'Done');
    if (form.dataset.reset !== undefined) form.reset();
    await refreshLive(true);
  } catch {
    const message = 'The server did not answer; check that Vigil is running.';
    if (errorBox) errorBox.textContent = message;
    else toast(message);
  } finally {
    if (button?.isConnected) button.disabled = false;
  }
}

document.addEventListener('submit', (e) => {
  const form = e.target;
  if (!(form instanceof HTMLFormElement) || form.dataset.api === undefined) return;
  e.preventDefault();
  void runApiForm(form, (e as SubmitEvent).submitter);
});

// ---------------------------------------------------------------------------- copy buttons

async function copyText(text: string): Promise<boolean> {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // fall back below
    }
  }
  // Plain http on a LAN address is not a secure context: copy through a selection instead.
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'offscreen';
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  return ok;
}

document.addEventListener('click', (e) => {
  const button = (e.target as Element | null)?.closest<HTMLButtonElement>('button[data-copy]');
  if (!button) return;
  const source = document.getElementById(button.dataset.copy ?? '');
  if (!source) return;
  void copyText(source.textContent ?? '').then((ok) => {
    button.textContent = ok ? 'Copied' : 'Select and copy';
    toast(ok ? 'Command copied' : 'Copying is blocked here: select the command and copy it');
    window.setTimeout(() => (button.textContent = 'Copy'), 2000);
  });
});

localizeTimes(document);
connectLive();
