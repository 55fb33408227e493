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

  // Fields a person typed into since the page (or its form) was last sent.
  const typed = new WeakSet();
  document.addEventListener('input', (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) typed.add(e.target);
  });

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
      window.Idiomorph.morph(main, fresh, {
        morphStyle: 'outerHTML',
        ignoreActiveValue: true,
        // What a person typed stays, in the focused field and in any other (a reason typed before clicking elsewhere).
        callbacks: { beforeAttributeUpdated: (attr, el) => !(attr === 'value' && typed.has(el)) },
      });
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

  // ---- Actions (src/web/actions): a form[data-action] is sent without leaving the page.
  // The server answers {ok, text}; the text goes to the #outcome region (role=status),
  // and the page refreshes itself (other browsers hear of it through /events).
  const outcome = document.getElementById('outcome');
  const freshNonce = () => {
    const bytes = new Uint8Array(18);
    crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
  };
  const tell = (ok, text) => {
    if (!outcome) return;
    const p = document.createElement('p');
    p.className = ok ? 'ok' : 'refused';
    p.dataset.ok = String(ok);
    p.textContent = text; // text, never HTML: replies quote what people wrote
    outcome.replaceChildren(p);
  };
  document.addEventListener('submit', async (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-action')) return;
    e.preventDefault();
    if (form.dataset.sending) return; // already on its way
    form.dataset.sending = '1';
    const buttons = [...form.querySelectorAll('button')];
    for (const b of buttons) b.disabled = true;
    const body = new URLSearchParams(new FormData(form));
    // A form of several buttons (the revert buttons of an author's commits): the pressed one says which.
    const pressed = e.submitter;
    if (pressed?.name) body.set(pressed.name, pressed.value);
    root.dataset.acting = '1';
    try {
      const res = await fetch(form.action, {
        method: 'POST',
        credentials: 'same-origin',
        headers: {
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
          'x-csrf-token': main.getAttribute('data-csrf') ?? '',
        },
        body,
      });
      let answer = null;
      try {
        answer = await res.json();
      } catch {
        answer = null;
      }
      if (answer?.confirm) {
        location.assign(answer.confirm);
        return;
      }
      if (form.hasAttribute('data-closes')) form.closest('dialog')?.close();
      if (answer && typeof answer.text === 'string') tell(answer.ok === true, answer.text);
      else tell(false, `The action was not sent (${res.status}${answer?.error ? `: ${answer.error}` : ''}).`);
      if (res.ok) {
        form.reset(); // the typed reason was used
        for (const field of form.elements) typed.delete(field);
        const nonce = form.querySelector('input[name=nonce]');
        if (nonce) nonce.value = freshNonce(); // the next press is a new request
      }
      await refresh();
    } catch {
      tell(false, 'The action could not be sent: the server did not answer. Try again.');
    } finally {
      for (const b of buttons) b.disabled = false;
      delete form.dataset.sending;
      delete root.dataset.acting;
    }
  });

  // ---- Confirmations: the confirm page of a form[data-confirm] opens in a <dialog> (outside
  // <main>, so a live refresh leaves it open), and its Confirm is sent like any action. Without
  // the dialog (an old browser, a failed fetch) the form goes to the confirm page as usual.
  document.addEventListener('submit', async (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-confirm')) return;
    if (typeof HTMLDialogElement !== 'function') return;
    e.preventDefault();
    const url = `${form.action}?${new URLSearchParams(new FormData(form))}`;
    let section = null;
    try {
      const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'text/html' } });
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      section = doc.querySelector('section.confirm');
    } catch {
      section = null;
    }
    if (!section) {
      form.submit(); // the confirm page itself
      return;
    }
    document.getElementById('confirm-dialog')?.remove();
    const dialog = document.createElement('dialog');
    dialog.id = 'confirm-dialog';
    dialog.className = 'confirm-dialog';
    dialog.setAttribute('aria-labelledby', 'confirm-title');
    dialog.append(document.importNode(section, true));
    const confirm = dialog.querySelector('form.confirm-form');
    confirm?.setAttribute('data-action', '');
    confirm?.setAttribute('data-closes', '');
    // Cancel (a link back on the page) and "Back" close the dialog instead of navigating.
    for (const a of dialog.querySelectorAll('a')) {
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        dialog.close();
      });
    }
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  });

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
