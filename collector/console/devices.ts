// The console's devices section (switches, UPS … polled by agents): its own script, so the
// main console client stays as it is. It reads /api/v1/devices with the console's session,
// every 10 s while the page is logged in, and writes text only (never HTML).

export const DEVICES_SECTION = `
    <section id="devices-section" hidden>
      <h2 data-dev-i18n="devices">ネットワーク機器</h2>
      <table id="devices"><thead><tr>
        <th data-dev-i18n="device">機器</th><th data-dev-i18n="state">状態</th><th data-dev-i18n="site">拠点</th>
        <th data-dev-i18n="poller">監視元</th><th data-dev-i18n="parent">上位機器</th><th data-dev-i18n="rtt">応答時間</th>
        <th data-dev-i18n="loss">損失率</th><th data-dev-i18n="lastSeen">最終受信</th>
      </tr></thead><tbody></tbody></table>
    </section>`

export const DEVICES_JS = `'use strict';
(function () {
  var T = {
    ja: { devices: 'ネットワーク機器', device: '機器', state: '状態', site: '拠点', poller: '監視元', parent: '上位機器', rtt: '応答時間', loss: '損失率', lastSeen: '最終受信',
      up: '稼働', down: '停止', unknown: '不明 (監視元が停止)', pollerDown: '監視元が停止中' },
    en: { devices: 'Network devices', device: 'Device', state: 'State', site: 'Site', poller: 'Polled by', parent: 'Parent', rtt: 'RTT', loss: 'Loss', lastSeen: 'Last seen',
      up: 'up', down: 'down', unknown: 'unknown (poller down)', pollerDown: 'poller is down' }
  };
  var last = null;
  function lang() { return document.documentElement.lang === 'en' ? 'en' : 'ja'; }
  function t(k) { return T[lang()][k]; }
  function cell(cls, text) { var td = document.createElement('td'); td.className = cls; td.textContent = text; return td; }
  function fmt(ms) { return new Date(ms).toLocaleString(lang() === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: 'Asia/Tokyo' }); }
  function render() {
    document.querySelectorAll('[data-dev-i18n]').forEach(function (e) { e.textContent = t(e.getAttribute('data-dev-i18n')); });
    if (last === null) return;
    var sec = document.getElementById('devices-section');
    sec.hidden = last.length === 0;
    var tb = document.getElementById('devices').tBodies[0];
    while (tb.firstChild) tb.removeChild(tb.firstChild);
    last.forEach(function (d) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-device', d.name); tr.setAttribute('data-state', d.state);
      var st = d.state === 'up' ? 'online' : d.state === 'down' ? 'down' : 'offline';
      tr.appendChild(cell('', d.name + (d.role && d.role !== 'device' ? ' (' + d.role + ')' : '')));
      tr.appendChild(cell('state state-' + st, t(d.state)));
      tr.appendChild(cell('site', d.site || ''));
      tr.appendChild(cell('poller' + (d.pollerUp ? '' : ' warn'), d.poller + (d.pollerUp ? '' : ' (' + t('pollerDown') + ')')));
      tr.appendChild(cell('parent', d.parent || ''));
      tr.appendChild(cell('rtt', d.rttMs === undefined ? '' : d.rttMs + ' ms'));
      tr.appendChild(cell('loss' + (d.lossPercent > 0 ? ' warn' : ''), d.lossPercent === undefined ? '' : d.lossPercent + '%'));
      tr.appendChild(cell('last-seen', fmt(d.lastSeen)));
      tb.appendChild(tr);
    });
  }
  async function refresh() {
    if (document.getElementById('app-view').hidden) return;
    var r = await fetch('/api/v1/devices', { credentials: 'same-origin' });
    if (r.status !== 200) return;
    last = (await r.json()).devices;
    render();
  }
  document.addEventListener('DOMContentLoaded', function () {
    // After the main script switched the language, label again.
    document.getElementById('lang').addEventListener('click', function () { setTimeout(render, 0); });
    new MutationObserver(function () { refresh().catch(function () {}); }).observe(document.getElementById('app-view'), { attributes: true, attributeFilter: ['hidden'] });
    setInterval(function () { refresh().catch(function () {}); }, 10000);
    refresh().catch(function () {});
  });
})();
`
