// Conductor's one browser script (no framework): keeps a page current.
// The page is complete without it. With it, the page listens to /events and,
// when a line it shows changes, fetches itself again and morphs the fresh
// <main> into the old one (idiomorph), so scroll, focus, typed text and open
// <details>/<dialog> survive. Served as a static, content-hashed asset: the
// Content-Security-Policy allows no inline script.
(() => {
  const main = document.getElementById('main');
  if (!main) return;
  const root = document.documentElement;
  let refreshing = false;
  let again = false;
  let timer = 0;

  const shows = (line) => {
    const live = main.getAttribute('data-live');
    if (live === null) return false;
    return live === '*' || line === '*' || live.split(' ').includes(line);
  };

  async function refresh() {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      const res = await fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html', 'x-conductor-refresh': '1' } });
      if (res.redirected && new URL(res.url).pathname === '/auth/login') {
        location.reload(); // the session ended: show the sign-in page
        return;
      }
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const fresh = doc.getElementById('main');
      if (!fresh) return;
      window.Idiomorph.morph(main, fresh, { morphStyle: 'outerHTML', ignoreActiveValue: true });
      document.title = doc.title;
      root.dataset.refreshes = String(Number(root.dataset.refreshes ?? '0') + 1);
    } catch {
      // Offline for a moment: the next event tries again.
    } finally {
      refreshing = false;
      if (again) {
        again = false;
        schedule();
      }
    }
  }

  // Changes come in bursts (a push of ten commits): one fetch for the burst.
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 100);
  }

  if (main.hasAttribute('data-live') && 'EventSource' in window) {
    // EventSource reconnects by itself and sends Last-Event-ID: the server then
    // replays what this page missed, or says "everything" when it cannot tell.
    const events = new EventSource('/events');
    events.addEventListener('open', () => {
      root.dataset.live = 'connected';
    });
    events.addEventListener('error', () => {
      root.dataset.live = 'reconnecting';
    });
    events.addEventListener('change', (e) => {
      let change;
      try {
        change = JSON.parse(e.data);
      } catch {
        return;
      }
      if (shows(change.line)) schedule();
    });
  }
})();

// ---- Job output: follow a running local job (train page) ---------------------
// A <pre data-follow="/lines/…/jobs/<id>/output"> shows the output as it was
// when the page was rendered; here it is polled (plain text, every 2 s) while
// the server says the job runs (X-Job-State), and kept scrolled to the bottom
// when the reader was at the bottom. Polling rather than a second EventSource:
// the page's /events stream already holds one of the browser's few connections.
(() => {
  const following = new WeakSet();
  async function follow(pre) {
    if (following.has(pre)) return;
    following.add(pre);
    for (;;) {
      await new Promise((r) => setTimeout(r, 2000));
      if (!pre.isConnected) return; // the page was morphed without it
      const url = pre.getAttribute('data-follow');
      if (!url) return;
      let res;
      try {
        res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'text/plain' } });
      } catch {
        continue; // offline for a moment
      }
      if (!res.ok) return;
      const text = await res.text();
      const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      if (pre.textContent !== text) pre.textContent = text;
      if (atBottom) pre.scrollTop = pre.scrollHeight;
      if (res.headers.get('x-job-state') !== 'running') return;
    }
  }
  const scan = () => document.querySelectorAll('pre[data-follow]').forEach(follow);
  scan();
  // The live refresh morphs <main>: a job that started since shows a new <pre>.
  const main = document.getElementById('main');
  if (main && 'MutationObserver' in window) new MutationObserver(scan).observe(main, { childList: true, subtree: true });
})();

// ---- Schedule editor: add and remove window rows (src/web/schedule) ----------
// Without this the page offers two empty rows per day, and a window is removed
// by clearing its times. With it, each day gets "Add a window" and each row
// "Remove" (which clears the row's times and hides it: the form then sends the
// row empty, which is how the server hears "no such window").
(() => {
  const MAX_ROWS = 48; // MAX_ROWS_PER_DAY in src/domain/schedule-form.ts
  for (const day of document.querySelectorAll('.autotime-form fieldset.day')) {
    const key = day.getAttribute('data-day');
    const dayName = day.querySelector('legend')?.textContent ?? key;
    const rows = () => Array.from(day.querySelectorAll('.window-row'));
    const add = document.createElement('button');
    add.type = 'button';
    add.className = 'link add-window';
    add.textContent = 'Add a window';
    add.setAttribute('aria-label', `Add a window on ${dayName}`);

    const withRemove = (row, n) => {
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'link remove-window';
      remove.textContent = 'Remove';
      remove.setAttribute('aria-label', `Remove ${dayName}, window ${n + 1}`);
      remove.addEventListener('click', () => {
        for (const input of row.querySelectorAll('input')) input.value = '';
        row.hidden = true;
        add.focus();
      });
      row.append(remove);
    };
    rows().forEach(withRemove);

    add.addEventListener('click', () => {
      const last = rows().at(-1);
      const n = rows().length;
      if (!last || n >= MAX_ROWS) return;
      const row = last.cloneNode(true);
      row.hidden = false;
      row.querySelector('.remove-window')?.remove();
      for (const part of ['start', 'end']) {
        const id = `${key}-${n}-${part}`;
        const input = row.querySelector(`input[name$="-${part}"]`);
        const label = row.querySelector(`label[for$="-${part}"]`);
        input.id = id;
        input.name = id;
        input.value = '';
        label.htmlFor = id;
        label.textContent = `${dayName}, window ${n + 1}, ${part}`;
      }
      withRemove(row, n);
      last.after(row);
      add.hidden = n + 1 >= MAX_ROWS;
      row.querySelector('input')?.focus();
    });
    day.append(add);
  }
})();
