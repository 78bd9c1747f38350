/** Static assets of the checkout page, served from memory with long cache lifetimes. */

export const CHECKOUT_CSS = `:root{color-scheme:light dark;--fg:#111;--bg:#f4f4f2;--card:#fff;--muted:#666;--accent:#f7931a;--ok:#1a7f37;--warn:#b35900;--bad:#b3261e}
@media (prefers-color-scheme:dark){:root{--fg:#eee;--bg:#121212;--card:#1e1e1e;--muted:#aaa}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.card{max-width:28rem;margin:0 auto;padding:1.25rem;background:var(--card);min-height:100vh}
@media (min-width:32rem){.card{margin:2rem auto;min-height:0;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.12)}}
header{text-align:center}
.merchant{margin:0;color:var(--muted);font-size:.9rem}
h1{margin:.2rem 0 1rem;font-size:1.3rem}
.status{margin:0 0 1rem;padding:.6rem .8rem;border-radius:8px;text-align:center;font-weight:600;background:rgba(247,147,26,.12)}
.status-confirmed,.status-forwarded{background:rgba(26,127,55,.15);color:var(--ok)}
.status-expired{background:rgba(179,38,30,.12);color:var(--bad)}
.status-underpaid{background:rgba(179,89,0,.14);color:var(--warn)}
.qr{display:block;width:min(100%,18rem);margin:0 auto 1rem;background:#fff;border-radius:8px}
.qr svg{display:block;width:100%;height:auto}
.details{margin:0}
.row{margin:0 0 .9rem}
dt{color:var(--muted);font-size:.85rem}
dd{margin:.15rem 0 0}
.value{font-weight:600}
code.value{font:600 .95rem/1.4 ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.fiat{display:block;color:var(--muted);font-size:.9rem}
.copy{margin-left:.35rem;padding:.35rem .7rem;font:inherit;font-size:.85rem;border:1px solid var(--muted);border-radius:6px;background:transparent;color:inherit;cursor:pointer;min-height:2.2rem}
.copy.done{border-color:var(--ok);color:var(--ok)}
.wallet{display:block;margin:1rem 0;padding:.8rem;border-radius:8px;background:var(--accent);color:#fff;text-align:center;font-weight:700;text-decoration:none}
.countdown,.confirmations{text-align:center;color:var(--muted);margin:.5rem 0}
.paid .qr,.paid .wallet,.closed .qr,.closed .wallet{display:none}
`;

export const CHECKOUT_JS = `(function () {
  'use strict';
  var root = document.getElementById('checkout');
  if (!root) return;
  var statusUrl = root.getAttribute('data-status-url');
  var expiresAt = Date.parse(root.getAttribute('data-expires-at'));
  var el = function (id) { return document.getElementById(id); };
  var current = null;
  var clockSkew = 0;

  function btc(sats) {
    var s = String(sats).padStart(9, '0');
    return s.slice(0, -8) + '.' + s.slice(-8);
  }

  function describe(s) {
    switch (s.status) {
      case 'pending': return 'Waiting for payment';
      case 'confirming':
        if (s.dueSats > 0) return 'Partial payment received';
        return s.confirmations > 0
          ? 'Confirming: ' + s.confirmations + ' of ' + s.requiredConfirmations
          : 'Payment seen, waiting for confirmation';
      case 'confirmed':
      case 'forwarded': return 'Paid. Thank you!';
      case 'expired': return 'This payment request has expired';
      case 'underpaid': return 'Underpaid: ' + btc(s.dueSats) + ' BTC still due';
      default: return s.status;
    }
  }

  function render(s) {
    current = s;
    clockSkew = s.secondsLeft * 1000 - (expiresAt - Date.now());
    var status = el('status');
    status.textContent = describe(s);
    status.className = 'status status-' + s.status;
    root.classList.toggle('paid', s.status === 'confirmed' || s.status === 'forwarded');
    root.classList.toggle('closed', s.status === 'expired');
    var due = el('due-row');
    due.hidden = !(s.receivedSats > 0 && s.dueSats > 0);
    el('due-btc').textContent = btc(s.dueSats);
    var conf = el('confirmations');
    conf.hidden = s.status !== 'confirming' || s.confirmations === 0;
    conf.textContent = 'Confirmations: ' + s.confirmations + '/' + s.requiredConfirmations;
    tick();
  }

  function tick() {
    var countdown = el('countdown');
    if (current && current.status !== 'pending') { countdown.textContent = ''; return; }
    var left = Math.max(0, Math.floor((expiresAt - Date.now() + clockSkew) / 1000));
    var m = Math.floor(left / 60), sec = left % 60;
    countdown.textContent = left > 0
      ? 'Expires in ' + m + ':' + String(sec).padStart(2, '0')
      : 'Expired';
  }

  function poll() {
    fetch(statusUrl, { headers: { accept: 'application/json' }, cache: 'no-store' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s) render(s); })
      .catch(function () {})
      .then(function () {
        var done = current && (current.status === 'forwarded' || current.status === 'expired');
        if (!done) setTimeout(poll, 3000);
      });
  }

  document.querySelectorAll('button.copy').forEach(function (button) {
    button.addEventListener('click', function () {
      var text = button.getAttribute('data-copy');
      var ok = function () {
        button.textContent = 'Copied';
        button.classList.add('done');
        setTimeout(function () { button.textContent = 'Copy'; button.classList.remove('done'); }, 1500);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(ok, function () {});
      }
    });
  });

  setInterval(tick, 1000);
  tick();
  poll();
})();
`;
