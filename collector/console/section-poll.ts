// The polling half of a console section's script: fetch its API while the app view shows, keep the
// answer in the section's `last`, and call its `render` (also when the page's language changes).

/** pollScript is script text for inside the section's closure, where `last` and `render` are declared. */
export function pollScript (url: string, everyMs: number): string {
  return `  async function refresh() {
    if (document.getElementById('app-view').hidden) return;
    try {
      var r = await fetch(${JSON.stringify(url)}, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (!r.ok) return;
      last = await r.json();
      render();
    } catch (e) { /* the main view shows connection problems */ }
  }
  document.addEventListener('DOMContentLoaded', function () {
    new MutationObserver(render).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
    new MutationObserver(function () { if (!document.getElementById('app-view').hidden) refresh(); }).observe(document.getElementById('app-view'), { attributes: true, attributeFilter: ['hidden'] });
    refresh();
    setInterval(refresh, ${everyMs});
  });
`
}
