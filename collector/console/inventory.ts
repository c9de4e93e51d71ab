// The console's 構成管理 (inventory) section: its own markup and script
// (/console-inventory.js), reading GET /api/v1/inventory with the console's
// session every minute. Kept apart from client.ts; texts in ja and en, data
// inserted as text, never as HTML.

import type { FastifyPluginAsync } from 'fastify'
import { pollScript } from './section-poll.js'

export const INVENTORY_SECTION_HTML = `
    <section id="inventory-section">
      <h2 data-inv="title">構成管理 (OS・更新プログラム)</h2>
      <p id="inventory-problem" class="muted" hidden></p>
      <table id="inventory"><thead><tr>
        <th data-inv="host">ホスト</th><th data-inv="os">OS</th><th data-inv="build">ビルド</th><th data-inv="lastUpdate">最終更新日</th>
        <th data-inv="reboot">再起動待ち</th><th data-inv="agent">エージェント</th><th data-inv="eol">サポート終了日</th><th data-inv="flag">要対応</th>
      </tr></thead><tbody></tbody></table>
    </section>`

export const INVENTORY_JS = `'use strict';
(function () {
  var T = {
    ja: { title: '構成管理 (OS・更新プログラム)', host: 'ホスト', os: 'OS', build: 'ビルド', lastUpdate: '最終更新日', reboot: '再起動待ち', agent: 'エージェント',
      eol: 'サポート終了日', flag: '要対応', yes: 'あり', pastEol: 'サポート終了', eolSoon: 'サポート終了間近', stale: '更新が{n}日超なし', noUpdate: '更新履歴なし', none: 'まだ報告がありません', daysAgo: '{n}日前' },
    en: { title: 'Inventory (OS and updates)', host: 'Host', os: 'OS', build: 'Build', lastUpdate: 'Last update', reboot: 'Reboot pending', agent: 'Agent',
      eol: 'End of support', flag: 'Flag', yes: 'yes', pastEol: 'past end of support', eolSoon: 'support ends soon', stale: 'no update for over {n} days', noUpdate: 'no update found', none: 'No host has reported yet', daysAgo: '{n} days ago' }
  };
  var last = null;
  function lang() { return document.documentElement.lang === 'en' ? 'en' : 'ja'; }
  function t(k, n) { var s = T[lang()][k] || k; return n === undefined ? s : s.replace('{n}', String(n)); }
  function td(text, cls) { var e = document.createElement('td'); e.textContent = text; if (cls) e.className = cls; return e; }
  function day(ms) { return new Date(ms + 9 * 3600000).toISOString().slice(0, 10); }
  function render() {
    document.querySelectorAll('[data-inv]').forEach(function (e) { e.textContent = t(e.getAttribute('data-inv')); });
    if (last === null) return;
    var p = document.getElementById('inventory-problem');
    p.hidden = !(last.problem || last.hosts.length === 0);
    p.textContent = last.problem || t('none');
    var tb = document.getElementById('inventory').tBodies[0];
    while (tb.firstChild) tb.removeChild(tb.firstChild);
    last.hosts.forEach(function (h) {
      var flags = [];
      if (h.pastEol) flags.push(t('pastEol'));
      if (h.eolSoon) flags.push(t('eolSoon'));
      if (h.staleUpdate) flags.push(h.lastUpdate === null ? t('noUpdate') : t('stale', last.maxUpdateAgeDays));
      var tr = document.createElement('tr');
      tr.setAttribute('data-host', h.host);
      tr.appendChild(td(h.host));
      tr.appendChild(td(h.osName + (h.osVersion ? ' ' + h.osVersion : '')));
      tr.appendChild(td(h.osBuild));
      tr.appendChild(td(h.lastUpdate === null ? '—' : day(h.lastUpdate) + ' (' + t('daysAgo', h.updateAgeDays) + ')', h.staleUpdate ? 'warn' : ''));
      tr.appendChild(td(h.pendingReboot ? t('yes') : '', h.pendingReboot ? 'warn' : ''));
      tr.appendChild(td(h.agentVersion));
      tr.appendChild(td(h.eol || '', h.pastEol ? 'bad' : h.eolSoon ? 'warn' : ''));
      tr.appendChild(td(flags.join(', '), h.pastEol ? 'bad' : flags.length > 0 ? 'warn' : ''));
      tb.appendChild(tr);
    });
  }
${pollScript('/api/v1/inventory', 60000)}})();
`

/** consoleInventory serves the section's script (public like /console.js: it holds no data). */
export const consoleInventory: FastifyPluginAsync = async app => {
  app.get('/console-inventory.js', { logLevel: 'warn' }, async (_req, reply) => await reply.type('text/javascript; charset=utf-8').send(INVENTORY_JS))
}
