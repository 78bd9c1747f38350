/** Static assets of the checkout page, served from memory with long cache lifetimes. */
import { createHash } from 'node:crypto';

// Colours meet WCAG AA (4.5:1) for text in both schemes: the wallet button is dark text on
// bitcoin orange (8:1; white on it was 2.3:1), status colours are darkened in light mode and
// lightened in dark mode.
export const CHECKOUT_CSS = `:root{color-scheme:light dark;--fg:#111;--bg:#f4f4f2;--card:#fff;--muted:#666;--accent:#f7931a;--on-accent:#111;--ok:#116329;--warn:#8a4500;--bad:#b3261e;--link:#0b57d0;--line:#ccc}
@media (prefers-color-scheme:dark){:root{--fg:#eee;--bg:#121212;--card:#1e1e1e;--muted:#aaa;--ok:#4ac26b;--warn:#e3a046;--bad:#ff7b72;--link:#8ab4f8;--line:#444}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--link)}
a:focus-visible,button:focus-visible{outline:3px solid var(--link);outline-offset:2px}
.card{max-width:30rem;margin:0 auto;padding:1.25rem;background:var(--card);min-height:100vh}
@media (min-width:32rem){.card{margin:2rem auto;min-height:0;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.12)}}
header{text-align:center}
.merchant{margin:0;color:var(--muted);font-size:.9rem}
h1{margin:.2rem 0 1rem;font-size:1.3rem}
h2{margin:0 0 .3rem;font-size:.85rem;font-weight:400;color:var(--muted)}
.status{margin:0 0 1rem;padding:.6rem .8rem;border-radius:8px;text-align:center;font-weight:600;background:rgba(247,147,26,.12)}
.status-paid{background:rgba(26,127,55,.15);color:var(--ok)}
.status-expired,.status-cancelled{background:rgba(179,38,30,.12);color:var(--bad)}
.status-underpaid{background:rgba(179,89,0,.14);color:var(--warn)}
.hint{margin:0 0 1rem}
.qr{display:block;width:min(100%,18rem);margin:0 auto 1rem;background:#fff;border-radius:8px}
.qr svg{display:block;width:100%;height:auto}
.details{margin:0}
.row{margin:0 0 .9rem}
dt{color:var(--muted);font-size:.85rem}
dd{margin:.15rem 0 0}
.copyable{display:flex;align-items:flex-start;gap:.6rem}
.copyable>:first-child{flex:1 1 auto;min-width:0}
.value{font-weight:600}
code.value,.txid{font:600 .95rem/1.4 ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.txid{font-weight:400;font-size:.85rem}
.fiat{display:block;color:var(--muted);font-size:.9rem;font-weight:400}
.copy{flex:none;white-space:nowrap;padding:.35rem .7rem;font:inherit;font-size:.85rem;border:1px solid var(--muted);border-radius:6px;background:transparent;color:inherit;cursor:pointer;min-height:2.2rem}
.copy.done{border-color:var(--ok);color:var(--ok)}
.wallet,.back{display:block;margin:1rem 0;padding:.8rem;border-radius:8px;text-align:center;font-weight:700;text-decoration:none}
.wallet{background:var(--accent);color:var(--on-accent)}
.back{border:2px solid var(--link);color:var(--link)}
.countdown{text-align:center;color:var(--muted);margin:.5rem 0}
.progress-text{margin:0 0 .4rem;text-align:center;font-weight:600}
progress{display:block;width:100%;height:.8rem;margin:0 0 1rem;accent-color:var(--ok)}
.transactions{margin:1rem 0 0}
.transactions ul{margin:0;padding:0;list-style:none}
.transactions li{margin:0 0 .3rem}
`;

export const CHECKOUT_JS = `(function () {
  'use strict';
  var root = document.getElementById('checkout');
  if (!root) return;
  var statusUrl = root.getAttribute('data-status-url');
  var expiresAt = Date.parse(root.getAttribute('data-expires-at'));
  var clockSkew = Number(root.getAttribute('data-seconds-left')) * 1000 - (expiresAt - Date.now());
  var refreshing = null;

  // The same key as renderKey() on the server: the page was drawn from this much.
  function keyOf(s) {
    return [s.phase, s.receivedSats, s.confirmations, s.transactions.length].join('|');
  }

  function bindCopy(scope) {
    scope.querySelectorAll('button.copy').forEach(function (button) {
      var label = button.textContent;
      button.addEventListener('click', function () {
        var ok = function () {
          button.textContent = button.getAttribute('data-copied');
          button.classList.add('done');
          setTimeout(function () { button.textContent = label; button.classList.remove('done'); }, 1500);
        };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(button.getAttribute('data-copy')).then(ok, function () {});
        }
      });
    });
  }

  function tick() {
    var countdown = document.getElementById('countdown');
    if (!countdown) return;
    var left = Math.max(0, Math.floor((expiresAt - Date.now() + clockSkew) / 1000));
    var m = Math.floor(left / 60), sec = left % 60;
    countdown.textContent = left > 0
      ? countdown.getAttribute('data-template').replace('{time}', m + ':' + String(sec).padStart(2, '0'))
      : countdown.getAttribute('data-time-up');
  }

  // The page draws itself on the server (in the payer's language, with its QR): on a change,
  // fetch it again and swap the content; the live status line only changes its text.
  function refresh() {
    if (refreshing) return refreshing;
    refreshing = fetch(location.href, { headers: { accept: 'text/html' }, cache: 'no-store' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var next = doc.getElementById('checkout');
        if (!next) return;
        ['class', 'data-key', 'data-final', 'data-poll-ms', 'data-expires-at'].forEach(function (a) {
          root.setAttribute(a, next.getAttribute(a));
        });
        var content = document.getElementById('content');
        content.innerHTML = doc.getElementById('content').innerHTML;
        var status = document.getElementById('status');
        var nextStatus = doc.getElementById('status');
        status.className = nextStatus.className;
        if (status.textContent !== nextStatus.textContent) status.textContent = nextStatus.textContent;
        bindCopy(content);
        tick();
      })
      .catch(function () {})
      .then(function () { refreshing = null; });
    return refreshing;
  }

  function pollLater() {
    if (root.getAttribute('data-final') === 'true') return;
    setTimeout(poll, Number(root.getAttribute('data-poll-ms')) || 3000);
  }

  function poll() {
    fetch(statusUrl, { headers: { accept: 'application/json' }, cache: 'no-store' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) return;
        clockSkew = s.secondsLeft * 1000 - (expiresAt - Date.now());
        if (keyOf(s) !== root.getAttribute('data-key')) return refresh();
        if (s.final) root.setAttribute('data-final', 'true');
      })
      .catch(function () {})
      .then(pollLater);
  }

  bindCopy(document);
  setInterval(tick, 1000);
  tick();
  pollLater();
})();
`;

/**
 * The assets' URLs carry a hash of their content: browsers cache them for an hour, and a page
 * of a new release must not run with the previous release's script or style.
 */
function versioned(path: string, content: string): string {
  return `${path}?v=${createHash('sha256').update(content).digest('hex').slice(0, 12)}`;
}

export const CHECKOUT_CSS_URL = versioned('/pay/assets/checkout.css', CHECKOUT_CSS);
export const CHECKOUT_JS_URL = versioned('/pay/assets/checkout.js', CHECKOUT_JS);
