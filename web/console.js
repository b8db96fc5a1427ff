// Alertline console: live board (Server-Sent Events), action buttons without reload, sound and
// browser notifications for new alerts, the console channel's pages with an alarm. No framework.
(() => {
  'use strict';
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (!meta) return; // not logged in
  const csrf = meta.content;
  const tbody = document.querySelector('table.board tbody');
  const live = document.getElementById('live');
  const pages = document.getElementById('pages') || (() => { const d = document.createElement('div'); d.id = 'pages'; d.setAttribute('aria-live', 'assertive'); document.getElementById('main').prepend(d); return d; })();
  const store = window.localStorage;
  let soundOn = store.getItem('alertline.sound') === 'on';
  let ctx = null;
  const seen = new Set(tbody ? [...tbody.querySelectorAll('tr[data-id]')].map((r) => r.dataset.id) : []);
  const alarms = new Map();

  function audio() {
    if (!ctx) { try { ctx = new (window.AudioContext || window.webkitAudioContext)(); } catch { ctx = null; } }
    if (ctx && ctx.state === 'suspended') ctx.resume().catch(() => {});
    return ctx;
  }
  function beep(times = 2) {
    const c = audio();
    if (!c) return;
    for (let i = 0; i < times; i++) {
      const o = c.createOscillator(); const g = c.createGain();
      o.type = 'square'; o.frequency.value = i % 2 ? 660 : 880;
      g.gain.value = 0.15; o.connect(g); g.connect(c.destination);
      const t = c.currentTime + i * 0.35; o.start(t); o.stop(t + 0.25);
    }
    document.body.dataset.lastBeep = String(Date.now());
  }
  function say(text, bad) {
    const p = document.createElement('p'); p.className = bad ? 'error' : 'notice'; p.setAttribute('role', bad ? 'alert' : 'status'); p.textContent = text;
    pages.before(p); setTimeout(() => p.remove(), 8000);
  }

  const soundBtn = document.getElementById('sound-toggle');
  function showSound() { if (soundBtn) { soundBtn.textContent = `Sound: ${soundOn ? 'on' : 'off'}`; soundBtn.setAttribute('aria-pressed', String(soundOn)); } }
  if (soundBtn) soundBtn.addEventListener('click', () => { soundOn = !soundOn; store.setItem('alertline.sound', soundOn ? 'on' : 'off'); showSound(); if (soundOn) beep(1); });
  showSound();
  const notifyBtn = document.getElementById('notify-toggle');
  if (notifyBtn) {
    if (!('Notification' in window)) notifyBtn.hidden = true;
    else notifyBtn.addEventListener('click', () => Notification.requestPermission().then((p) => say(`Browser notifications: ${p}`)));
  }
  function notify(title, body) {
    if ('Notification' in window && Notification.permission === 'granted') { try { new Notification(title, { body, tag: title }); } catch { /* not allowed here */ } }
  }

  let timer = null;
  async function refresh() {
    if (!tbody) return;
    const r = await fetch('/console/board-rows', { headers: { accept: 'text/html' }, credentials: 'same-origin' });
    if (r.status === 401) { location.href = '/login?next=/'; return; }
    if (!r.ok) return;
    tbody.innerHTML = await r.text();
    const fresh = [];
    for (const tr of tbody.querySelectorAll('tr[data-id]')) {
      if (!seen.has(tr.dataset.id)) { seen.add(tr.dataset.id); if (tr.classList.contains('open')) fresh.push(tr); }
    }
    if (fresh.length) {
      if (soundOn) beep(2);
      for (const tr of fresh) notify(`Alert ${tr.dataset.id}`, tr.cells[4] ? tr.cells[4].textContent : '');
    }
    for (const [id, a] of alarms) {
      const tr = tbody.querySelector(`tr[data-id="${id}"]`);
      if (tr && !tr.classList.contains('open')) stopAlarm(id, a);
    }
  }
  function later() { if (!timer) timer = setTimeout(() => { timer = null; refresh().catch(() => {}); }, 150); }

  function stopAlarm(id, a = alarms.get(String(id))) {
    if (!a) return;
    clearInterval(a.timer); a.el.remove(); alarms.delete(String(id));
  }
  function page(p) {
    const id = String(p.alertId);
    if (alarms.has(id)) return;
    if (p.kind === 'update' || p.kind === 'resolved') { // a notice ("Acknowledged by ..."): shown, no alarm, nothing to acknowledge
      say(p.text || p.subject);
      if (soundOn) beep(1);
      return;
    }
    const el = document.createElement('div'); el.className = 'page-alert'; el.setAttribute('role', 'alert'); el.dataset.alert = id;
    const s = document.createElement('strong'); s.textContent = `Alert ${id} for you: ${p.text || p.subject}`;
    const f = document.createElement('form'); f.method = 'post'; f.action = `/alerts/${id}/ack`; f.className = 'actions';
    const h = document.createElement('input'); h.type = 'hidden'; h.name = '_csrf'; h.value = csrf;
    const b = document.createElement('button'); b.type = 'submit'; b.className = 'ack'; b.textContent = 'Acknowledge';
    const quiet = document.createElement('button'); quiet.type = 'button'; quiet.textContent = 'Silence alarm';
    f.append(h, b); el.append(s, f, quiet); pages.append(el);
    const a = { el, timer: setInterval(() => beep(2), 2000) };
    quiet.addEventListener('click', () => { clearInterval(a.timer); });
    alarms.set(id, a);
    beep(3);
    notify(`Alert ${id} for you`, p.text || p.subject);
  }

  document.addEventListener('submit', async (e) => {
    const f = e.target;
    if (!(f instanceof HTMLFormElement) || !f.classList.contains('actions') && !f.closest('.actions')) return;
    e.preventDefault();
    const btn = e.submitter || f.querySelector('button'); if (btn) btn.disabled = true;
    const action = btn && btn.getAttribute('formaction') ? btn.formAction : f.action;
    try {
      const r = await fetch(action, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': csrf, accept: 'application/json' }, body: new URLSearchParams(new FormData(f)) });
      const j = await r.json().catch(() => ({}));
      say(r.ok ? j.message : (j.error || `failed (${r.status})`), !r.ok);
      const m = /\/alerts\/(\d+)\//.exec(action);
      if (r.ok && m && /\/ack$/.test(action)) stopAlarm(m[1]);
      if (tbody) await refresh(); else if (r.ok) location.reload();
    } finally { if (btn) btn.disabled = false; }
  });

  function connect() {
    const es = new EventSource('/console/events');
    es.addEventListener('open', () => { if (live) live.textContent = 'live'; });
    es.addEventListener('error', () => { if (live) live.textContent = 'reconnecting…'; });
    es.addEventListener('alert', later);
    es.addEventListener('attempt', later);
    es.addEventListener('page', (ev) => { try { page(JSON.parse(ev.data)); } catch { /* malformed */ } later(); });
  }
  connect();
})();
