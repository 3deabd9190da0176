/**
 * What a remediated client sees: the ban page (403) and the captcha page (401), as self-contained
 * HTML (no external resource unless a captcha provider's widget is chosen), or a small JSON body
 * when the client asks for JSON. Pure string building.
 */
import { escapeHtml } from '../lib/escape-html.ts';
import type { CaptchaProvider } from './captcha.ts';

/** Paths the bouncer answers itself, under the protected site (documented in docs/bouncer.md). */
export const VIGIL_PATH_PREFIX = '/.vigil/';
export const VERIFY_PATH = '/.vigil/captcha/verify';
/** nginx's `error_page 401 403 = /.vigil/remediation;` lands here (forward-auth daemon only). */
export const REMEDIATION_PATH = '/.vigil/remediation';

export interface Page {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const NO_STORE = 'no-store';

/** Whether the client asked for JSON rather than a page (an API client, fetch, curl -H Accept). */
export function wantsJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.includes('json') && !accept.includes('text/html');
}

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1f2328;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;max-width:34rem;margin:1rem;padding:2rem 2.5rem;border-radius:10px;box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:1.4rem;margin:0 0 .75rem}p{line-height:1.5;margin:.5rem 0}small{color:#656d76}
progress{width:100%;height:.75rem}`;

function html(title: string, content: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${content}</main></body></html>
`;
}

function json(status: number, body: unknown): Page {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': NO_STORE }, body: JSON.stringify(body) };
}

function page(status: number, title: string, content: string): Page {
  return { status, headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': NO_STORE }, body: html(title, content) };
}

export type BanReason = 'decision' | 'lapi_unavailable' | 'bad_client_address';

/** 403: the address is banned (or refused while the Local API is unreachable and fail-closed is set). */
export function banPage(ip: string, reason: BanReason, asJson: boolean): Page {
  const message =
    reason === 'decision'
      ? 'access denied'
      : reason === 'lapi_unavailable'
        ? 'access temporarily restricted: the security service cannot check your address'
        : 'access denied: the client address could not be determined';
  if (asJson) return json(403, { message, remediation: 'ban' });
  const detail =
    reason === 'decision'
      ? 'Your address has been blocked by this site’s security policy.'
      : reason === 'lapi_unavailable'
        ? 'This site’s security service cannot check your address right now. Please try again in a few minutes.'
        : 'This request came through a proxy that did not say who sent it.';
  return page(
    403,
    'Access denied',
    `<h1>Access denied</h1><p>${detail}</p><p><small>Your address: ${escapeHtml(ip)} · ${new Date().toISOString().slice(0, 19)}Z</small></p>`,
  );
}

/**
 * The proof-of-work solver the captcha page runs, as plain ES5 so that any browser runs it, with its
 * own SHA-256: `crypto.subtle` exists only on HTTPS pages and is asynchronous per hash. Exposes
 * `vigilPowOk(text, difficulty)`; tests run this same source in a VM against node:crypto.
 */
export const POW_SOLVER_JS = `var vigilPowOk=(function(){
var K=[0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2];
var W=new Array(64);
function rotr(x,n){return (x>>>n)|(x<<(32-n));}
function sha256(s){
var n=s.length,words=((n+9+63)>>6)<<4,M=new Array(words),i;
for(i=0;i<words;i++)M[i]=0;
for(i=0;i<n;i++)M[i>>2]|=(s.charCodeAt(i)&255)<<(24-(i&3)*8);
M[n>>2]|=0x80<<(24-(n&3)*8);M[words-1]=n*8;
var h0=0x6a09e667,h1=0xbb67ae85,h2=0x3c6ef372,h3=0xa54ff53a,h4=0x510e527f,h5=0x9b05688c,h6=0x1f83d9ab,h7=0x5be0cd19;
for(var o=0;o<words;o+=16){
var a=h0,b=h1,c=h2,d=h3,e=h4,f=h5,g=h6,h=h7,t;
for(t=0;t<64;t++){
if(t<16)W[t]=M[o+t]|0;else{var x=W[t-15],y=W[t-2];W[t]=((rotr(x,7)^rotr(x,18)^(x>>>3))+W[t-16]+(rotr(y,17)^rotr(y,19)^(y>>>10))+W[t-7])|0;}
var t1=(h+(rotr(e,6)^rotr(e,11)^rotr(e,25))+((e&f)^(~e&g))+K[t]+W[t])|0;
var t2=((rotr(a,2)^rotr(a,13)^rotr(a,22))+((a&b)^(a&c)^(b&c)))|0;
h=g;g=f;f=e;e=(d+t1)|0;d=c;c=b;b=a;a=(t1+t2)|0;}
h0=(h0+a)|0;h1=(h1+b)|0;h2=(h2+c)|0;h3=(h3+d)|0;h4=(h4+e)|0;h5=(h5+f)|0;h6=(h6+g)|0;h7=(h7+h)|0;}
return [h0,h1,h2,h3,h4,h5,h6,h7];}
return function(text,difficulty){
var h=sha256(text),i=0;
while(difficulty>=32){if(h[i]!==0)return false;difficulty-=32;i++;}
return difficulty===0||(h[i]>>>(32-difficulty))===0;};
})();`;

const POW_PAGE_JS = `(function(){
var el=document.getElementById('vigil-challenge'),st=document.getElementById('vigil-status'),pg=document.getElementById('vigil-progress');
var c=el.getAttribute('data-challenge'),d=+el.getAttribute('data-difficulty'),v=el.getAttribute('data-verify'),n=0,expected=Math.pow(2,d);
function back(){return encodeURIComponent(location.pathname+location.search);}
function step(){
for(var i=0;i<20000;i++,n++){if(vigilPowOk(c+':'+n,d)){st.textContent='Done, continuing…';location.replace(v+'?c='+encodeURIComponent(c)+'&n='+n+'&r='+back());return;}}
pg.value=Math.min(0.95,n/expected);setTimeout(step,0);}
setTimeout(step,0);})();`;

export interface CaptchaPageInput {
  ip: string;
  provider: CaptchaProvider;
  /** pow only */
  challenge?: string;
  difficulty?: number;
  /** turnstile, hcaptcha, recaptcha */
  siteKey?: string;
  /** Shown when an answer was wrong or expired. */
  retry?: boolean;
}

const WIDGETS: Record<Exclude<CaptchaProvider, 'pow'>, { script: string; className: string }> = {
  turnstile: { script: 'https://challenges.cloudflare.com/turnstile/v0/api.js', className: 'cf-turnstile' },
  hcaptcha: { script: 'https://js.hcaptcha.com/1/api.js', className: 'h-captcha' },
  recaptcha: { script: 'https://www.google.com/recaptcha/api.js', className: 'g-recaptcha' },
};

/** 401: prove you are a browser. (401, not 403, so nginx's auth_request can tell it from a ban.) */
export function captchaPage(input: CaptchaPageInput, asJson: boolean): Page {
  if (asJson) return json(401, { message: 'captcha required: open this address in a web browser to continue', remediation: 'captcha' });
  const retry = input.retry ? '<p><strong>That answer was not accepted (wrong or expired); here is a new one.</strong></p>' : '';
  const foot = `<p><small>Your address: ${escapeHtml(input.ip)}</small></p>`;
  if (input.provider === 'pow') {
    const content =
      `<h1>Checking your browser</h1>${retry}<p>This site checks that visitors are browsers before letting them in. ` +
      `This takes a second or two and happens once per hour.</p>` +
      `<div id="vigil-challenge" data-challenge="${escapeHtml(input.challenge ?? '')}" data-difficulty="${input.difficulty ?? 0}" data-verify="${VERIFY_PATH}"></div>` +
      `<progress id="vigil-progress" value="0"></progress><p id="vigil-status"><noscript>Please enable JavaScript to continue.</noscript></p>${foot}` +
      `<script>${POW_SOLVER_JS}\n${POW_PAGE_JS}</script>`;
    return page(401, 'Checking your browser', content);
  }
  const w = WIDGETS[input.provider];
  const content =
    `<h1>Please confirm you are human</h1>${retry}<p>This site asks visitors to solve a captcha before letting them in; it is valid for an hour.</p>` +
    `<script src="${w.script}" async defer></script>` +
    `<div class="${w.className}" data-sitekey="${escapeHtml(input.siteKey ?? '')}" data-callback="vigilSolved"></div>${foot}` +
    `<script>function vigilSolved(t){location.replace('${VERIFY_PATH}?t='+encodeURIComponent(t)+'&r='+encodeURIComponent(location.pathname+location.search));}</script>`;
  return page(401, 'Please confirm you are human', content);
}

/** A page with nothing to do any more (e.g. the captcha was solved in another tab): reload. */
export function continuePage(): Page {
  return page(200, 'Continue', '<h1>You may continue</h1><p>Reloading…</p><script>setTimeout(function(){location.reload();},1000);</script>');
}

/** Where to send the browser after a solved captcha: a path on this site only (no open redirect). */
export function safeReturnPath(r: string | null): string {
  if (r === null || r.length === 0 || r.length > 2048) return '/';
  if (!r.startsWith('/') || r.startsWith('//') || r.startsWith('/\\') || /[\r\n\\]/.test(r)) return '/';
  if (r.startsWith(VIGIL_PATH_PREFIX)) return '/';
  return r;
}
