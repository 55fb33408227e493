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
