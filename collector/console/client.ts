// The console's browser script, served as /console.js. It is plain ES2020 kept
// as a string so that tsc ships it inside dist/ with the collector (no bundler
// step, no DOM types in the Node program). The console test runs it in
// Chromium and fails on any page error. Data is only ever set as text.

export const CONSOLE_JS = String.raw`'use strict';
(function () {
  var TZ = 'Asia/Tokyo';
  var RANK = { viewer: 1, operator: 2, admin: 3 };
  var T = {
    ja: {
      title: '監視コンソール', langToggle: 'English', logout: 'ログアウト', loginTitle: 'ログイン', tokenLabel: 'API トークン', login: 'ログイン',
      loginFailed: 'トークンが正しくありません。', loginLimited: 'ログインの失敗が続いたため一時的に受け付けません。しばらく待ってください。',
      health: 'コレクターの状態', agents: 'エージェント', agent: 'エージェント', state: '状態', lastSeen: '最終受信', version: 'バージョン',
      spool: '未送信 (spool)', skew: '時刻ずれ', alerts: '発生中のアラート', alertingOff: 'アラート通知は設定されていません (collector.yaml の alerting:)。',
      severity: '重要度', host: 'ホスト', summary: '概要', since: '発生', ack: '対応', pending: '保留中 (for 待ち)', silences: 'サイレンス',
      name: '名前', match: '対象', start: '開始', end: '終了', by: '作成者', maintenance: 'メンテナンス期間', recur: '繰り返し',
      addMaintenance: 'メンテナンス期間を追加', matchInput: '対象 (tag=値, …)', startJst: '開始 (JST)', endJst: '終了 (JST)', comment: 'コメント', add: '追加',
      updated: '更新', online: 'オンライン', offline: '切断', down: '停止', ackButton: '対応開始', ackedBy: '対応中: ', silenceButton: 'サイレンス',
      deleteButton: '削除', none: 'なし', ready: '正常 (ready)', notReady: '異常 (not ready)', readiness: '受付状態', storage: '保存先',
      wal: 'WAL (未書き込みログ)', walOldest: 'WAL 最古の未書き込み', alertingLag: 'アラート評価の遅れ', outbox: '送信待ちメール', deadLetter: '書き込み拒否された点',
      agentsConnected: '接続中のエージェント', grafana: 'Grafana', noc: 'NOC 全体ダッシュボード', hostDash: 'ダッシュボード', role: '権限',
      hours: '時間', confirmDelete: '削除しますか?', suppressed: '抑止中: ', days: '曜日', firing: '発生中', acked: '対応済み',
      sevcritical: '重大', sevwarning: '警告', sevinfo: '情報', secondsAgo: '秒前', minutesAgo: '分前', hoursAgo: '時間前', never: '未接続',
      reports: '報告書', reportKind: '種類', period: '対象期間', generatedAt: '作成日時', download: 'ダウンロード',
      kinddaily: '日次業務報告書', kindmonthly: '月次報告書', pdfSkipped: 'PDF なし: ',
      incidents: '障害 (直近 30 日)', systemsCol: '対象システム', resolvedCol: '検知 – 復旧', writeUpCol: '記録', written: '記入済み', notWritten: '未記入', ongoing: '継続中'
    },
    en: {
      title: 'Operator console', langToggle: '日本語', logout: 'Log out', loginTitle: 'Log in', tokenLabel: 'API token', login: 'Log in',
      loginFailed: 'The token is not valid.', loginLimited: 'Too many failed logins from this address. Please wait and try again.',
      health: 'Collector health', agents: 'Agents', agent: 'Agent', state: 'State', lastSeen: 'Last seen', version: 'Version',
      spool: 'Spool (unsent)', skew: 'Clock skew', alerts: 'Active alerts', alertingOff: 'Alerting is not configured (alerting: in collector.yaml).',
      severity: 'Severity', host: 'Host', summary: 'Summary', since: 'Since', ack: 'Acknowledged', pending: 'Pending (waiting for "for")', silences: 'Silences',
      name: 'Name', match: 'Matches', start: 'Start', end: 'End', by: 'Created by', maintenance: 'Maintenance windows', recur: 'Recurs',
      addMaintenance: 'Add a maintenance window', matchInput: 'Matches (tag=value, …)', startJst: 'Start (JST)', endJst: 'End (JST)', comment: 'Comment', add: 'Add',
      updated: 'Updated', online: 'online', offline: 'disconnected', down: 'down', ackButton: 'Acknowledge', ackedBy: 'acked by ', silenceButton: 'Silence',
      deleteButton: 'Delete', none: 'none', ready: 'ready', notReady: 'not ready', readiness: 'Readiness', storage: 'Storage',
      wal: 'WAL (not yet written)', walOldest: 'Oldest unwritten WAL record', alertingLag: 'Alert evaluation lag', outbox: 'Mails waiting', deadLetter: 'Points refused by storage',
      agentsConnected: 'Agents connected', grafana: 'Grafana', noc: 'NOC overview dashboard', hostDash: 'dashboard', role: 'role',
      hours: 'h', confirmDelete: 'Delete it?', suppressed: 'muted by ', days: 'days', firing: 'firing', acked: 'acknowledged',
      sevcritical: 'critical', sevwarning: 'warning', sevinfo: 'info', secondsAgo: 's ago', minutesAgo: ' min ago', hoursAgo: ' h ago', never: 'never connected',
      reports: 'Reports', reportKind: 'Kind', period: 'Period', generatedAt: 'Generated', download: 'Download',
      kinddaily: 'Daily operations report', kindmonthly: 'Monthly report', pdfSkipped: 'no PDF: ',
      incidents: 'Incidents (last 30 days)', systemsCol: 'Systems', resolvedCol: 'Detected – recovered', writeUpCol: 'Write-up', written: 'written', notWritten: 'not yet', ongoing: 'ongoing'
    }
  };
  var lang = localStorage.getItem('kanshi.lang') === 'en' ? 'en' : 'ja';
  var me = null;
  var grafanaUrl = null;
  var timer = null;
  var last = null;

  function t(k) { return T[lang][k] !== undefined ? T[lang][k] : k; }
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) { if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function can(role) { return me !== null && RANK[me.role] >= RANK[role]; }
  function fmtTime(ms) {
    if (ms === null || ms === undefined) return '';
    return new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date(ms)) + (lang === 'en' ? ' JST' : '');
  }
  function ago(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 120) return s + t('secondsAgo');
    if (s < 7200) return Math.round(s / 60) + t('minutesAgo');
    return Math.round(s / 3600) + t('hoursAgo');
  }
  function bytes(n) {
    if (n === null || n === undefined) return '';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB']; var i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + u[i];
  }
  function dur(ms) {
    if (ms === null || ms === undefined) return '';
    if (Math.abs(ms) < 1000) return ms + ' ms';
    return (ms / 1000).toFixed(1) + ' s';
  }
  function matchText(m) { return Object.keys(m).map(function (k) { return k + '=' + m[k]; }).join(', '); }
  function grafana(path) { return grafanaUrl === null ? null : grafanaUrl.replace(/\/+$/, '') + path; }
  function link(href, text) { return el('a', { href: href, target: '_blank', rel: 'noopener noreferrer', text: text }); }

  async function api(method, url, body) {
    var headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && me !== null) headers['x-csrf-token'] = me.csrf;
    var r = await fetch(url, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
    var data = null;
    if (r.status !== 204) { try { data = await r.json(); } catch (e) { data = null; } }
    if (r.status === 401 && url !== '/console/login') { showLogin(); }
    if (!r.ok) { var err = new Error((data && data.message) || ('HTTP ' + r.status)); err.status = r.status; throw err; }
    return data;
  }

  function showError(e) {
    var p = $('error');
    if (e === null) { p.hidden = true; p.textContent = ''; return; }
    p.hidden = false; p.textContent = String(e.message || e);
  }

  function applyLang() {
    document.documentElement.lang = lang;
    document.title = 'kanshi ' + t('title');
    document.querySelectorAll('[data-i18n]').forEach(function (e) { e.textContent = t(e.getAttribute('data-i18n')); });
    if (me !== null) $('who').textContent = me.name + ' (' + t('role') + ': ' + me.role + ')';
    if (last !== null) render(last);
  }

  function showLogin() {
    me = null;
    if (timer !== null) { clearInterval(timer); timer = null; }
    $('app-view').hidden = true; $('logout').hidden = true; $('who').hidden = true;
    $('login-view').hidden = false;
    $('token').focus();
  }

  function showApp(session) {
    me = session;
    $('login-view').hidden = true;
    $('app-view').hidden = false; $('logout').hidden = false; $('who').hidden = false;
    $('maintenance-form').hidden = !can('admin');
    applyLang();
    refresh();
    if (timer === null) timer = setInterval(refresh, 10000);
  }

  async function refresh() {
    try {
      var state = await api('GET', '/console/state');
      // Every role may read the generated reports (viewer and up).
      var data = { state: state, alerts: null, silences: [], maintenance: [], reports: (await api('GET', '/v1/reports')).reports };
      if (state.alerting) {
        var rs = await Promise.all([api('GET', '/v1/alerts'), api('GET', '/v1/silences'), api('GET', '/v1/maintenance'), api('GET', '/v1/incidents')]);
        data.alerts = rs[0]; data.silences = rs[1].silences; data.maintenance = rs[2].maintenance; data.incidents = rs[3].incidents;
      }
      last = data;
      render(data);
      showError(null);
    } catch (e) { if (e.status !== 401) showError(e); }
  }

  function render(d) {
    grafanaUrl = d.state.grafanaUrl;
    renderHealth(d.state);
    renderAgents(d.state);
    $('alerting-off').hidden = d.state.alerting;
    ['alerts', 'silences', 'maintenance'].forEach(function (id) { $(id).hidden = !d.state.alerting; });
    $('maintenance-form').hidden = !d.state.alerting || !can('admin');
    if (d.alerts !== null) renderAlerts(d.alerts, d.state.now);
    $('incidents-section').hidden = !d.state.alerting;
    if (d.incidents) renderIncidents(d.incidents);
    renderWindows('silences', d.silences, 'operator', '/v1/silences/');
    renderWindows('maintenance', d.maintenance, 'admin', '/v1/maintenance/');
    renderReports(d.reports);
    $('updated').textContent = fmtTime(d.state.now);
    document.body.setAttribute('data-loaded', '1');
  }

  function renderHealth(s) {
    var h = s.health; var dl = $('health'); clear(dl);
    function row(k, v, cls) { dl.appendChild(el('dt', { text: t(k) })); dl.appendChild(el('dd', { text: v, cls: cls || '', 'data-key': k })); }
    row('readiness', h.ready ? t('ready') : t('notReady'), h.ready ? 'ok' : 'bad');
    row('storage', h.storage);
    row('wal', bytes(h.walBytes) + ' / ' + bytes(h.walMaxBytes) + ' (' + (h.walMaxBytes > 0 ? Math.round(h.walBytes / h.walMaxBytes * 1000) / 10 : 0) + '%)');
    if (h.walOldestMs !== null) row('walOldest', h.walOldestMs === 0 ? t('none') : ago(h.walOldestMs), h.walOldestMs > 300000 ? 'warn' : '');
    if (h.alertingLagMs !== null) row('alertingLag', h.alertingLagMs === 0 ? t('none') : ago(h.alertingLagMs));
    if (h.outbox !== null) row('outbox', String(h.outbox), h.outbox > 0 ? 'warn' : '');
    row('deadLetter', String(h.deadLetterPoints), h.deadLetterPoints > 0 ? 'warn' : '');
    row('agentsConnected', h.agentsConnected + ' / ' + s.agents.length);
    var ul = $('problems'); clear(ul);
    (h.problems || []).concat(h.warnings || []).forEach(function (p) { ul.appendChild(el('li', { text: p })); });
    var g = $('grafana'); clear(g);
    var noc = grafana('/d/kanshi-noc');
    if (noc !== null) g.appendChild(link(noc, t('grafana') + ': ' + t('noc')));
  }

  function renderAgents(s) {
    var tb = $('agents').tBodies[0]; clear(tb);
    s.agents.forEach(function (a) {
      var st = a.connected ? 'online' : (a.up ? 'offline' : 'down');
      var seen = a.connectedAt === undefined && !a.connected ? t('never') : fmtTime(a.lastSeen) + ' (' + ago(s.now - a.lastSeen) + ')';
      var spool = a.spoolBatches === undefined ? '' : a.spoolBatches + ' / ' + bytes(a.spoolBytes);
      var skew = a.clockSkewMs === undefined ? '' : dur(a.clockSkewMs);
      var dash = grafana('/d/kanshi-host/host-detail?var-host=' + encodeURIComponent(a.id));
      tb.appendChild(el('tr', { 'data-agent': a.id, 'data-state': st }, [
        el('td', {}, [el('strong', { text: a.id }), a.hostname && a.hostname !== a.id ? el('span', { cls: 'muted', text: ' ' + a.hostname }) : null]),
        el('td', { cls: 'state state-' + st, text: t(st) }),
        el('td', { cls: 'last-seen', text: seen }),
        el('td', { cls: 'version', text: (a.version || '') + (a.os ? ' (' + a.os + ')' : '') }),
        el('td', { cls: 'spool' + (a.spoolBatches > 0 ? ' warn' : ''), text: spool }),
        el('td', { cls: 'skew' + (a.clockSkewMs !== undefined && Math.abs(a.clockSkewMs) > 5000 ? ' bad' : ''), text: skew }),
        el('td', {}, [dash === null ? null : link(dash, t('hostDash'))])
      ]));
    });
  }

  function renderAlerts(a, now) {
    var tb = $('alerts').tBodies[0]; clear(tb);
    if (a.firing.length === 0) tb.appendChild(el('tr', {}, [el('td', { cls: 'muted', colspan: '6', text: t('none') })]));
    a.firing.forEach(function (i) {
      var acts = el('td', { cls: 'actions' });
      if (i.acked_at === null && can('operator')) {
        var b = el('button', { type: 'button', cls: 'ack', text: t('ackButton') });
        b.addEventListener('click', function () { act(function () { return api('POST', '/v1/alerts/' + i.id + '/ack'); }); });
        acts.appendChild(b);
      }
      if (can('operator')) {
        var sel = el('select', { cls: 'silence-hours' }, [1, 4, 24].map(function (h) { return el('option', { value: String(h), text: h + ' ' + t('hours') }); }));
        var sb = el('button', { type: 'button', cls: 'silence', text: t('silenceButton') });
        sb.addEventListener('click', function () {
          var start = Date.now(); var end = start + Number(sel.value) * 3600000;
          act(function () { return api('POST', '/v1/silences', { name: i.rule + ' ' + i.host, match: { host: i.host, rule: i.rule }, start: new Date(start).toISOString(), end: new Date(end).toISOString(), comment: 'console: ' + me.name }); });
        });
        acts.appendChild(sel); acts.appendChild(sb);
      }
      var dash = grafana('/d/kanshi-host/host-detail?var-host=' + encodeURIComponent(i.host) + '&from=' + (i.detected_at - 3600000) + '&to=now');
      var state = i.acked_at !== null ? t('ackedBy') + i.acked_by + ' (' + fmtTime(i.acked_at) + ')' : (i.suppressed_by ? t('suppressed') + i.suppressed_by : t('firing'));
      tb.appendChild(el('tr', { 'data-incident': String(i.id), 'data-acked': i.acked_at !== null ? '1' : '0' }, [
        el('td', { cls: 'sev-' + i.severity, text: t('sev' + i.severity) }),
        el('td', { text: i.host }),
        el('td', {}, [el('span', { text: lang === 'ja' || !i.summary_en ? i.summary : i.summary_en }), dash === null ? null : el('span', {}, [' ', link(dash, t('grafana'))]), ' ', el('a', { href: '/console/incidents/' + i.id, cls: 'incident-link', text: '#' + i.id })]),
        el('td', { text: fmtTime(i.detected_at) + ' (' + ago(now - i.detected_at) + ')' }),
        el('td', { cls: 'ack-state', text: state }),
        acts
      ]));
    });
    var ul = $('pending'); clear(ul);
    a.pending.forEach(function (p) { ul.appendChild(el('li', { text: p.rule + ' ' + matchText(p.labels) + ' = ' + p.value + ' (' + fmtTime(p.since) + ')' })); });
    if (a.pending.length === 0) ul.appendChild(el('li', { cls: 'muted', text: t('none') }));
  }

  // The 障害 (primary rows) of the last 30 days, newest first, each linking to its incident view.
  function renderIncidents(list) {
    var tb = $('incidents').tBodies[0]; clear(tb);
    var rows = list.filter(function (i) { return i.merged_into === null; }).sort(function (a, b) { return b.detected_at - a.detected_at; }).slice(0, 50);
    if (rows.length === 0) tb.appendChild(el('tr', {}, [el('td', { cls: 'muted', colspan: '6', text: t('none') })]));
    rows.forEach(function (i) {
      tb.appendChild(el('tr', { 'data-incident-id': String(i.id) }, [
        el('td', {}, [el('a', { href: '/console/incidents/' + i.id, text: '#' + i.id })]),
        el('td', { cls: 'sev-' + i.severity, text: t('sev' + i.severity) }),
        el('td', { text: lang === 'ja' || !i.summary_en ? i.summary : i.summary_en }),
        el('td', { text: i.systems.join(', ') }),
        el('td', { text: fmtTime(i.detected_at) + ' – ' + (i.resolved_at === null ? t('ongoing') : fmtTime(i.resolved_at)) }),
        el('td', { text: i.cause_text !== '' ? t('written') : t('notWritten') })
      ]));
    });
  }

  function renderWindows(id, list, role, path) {
    var tb = $(id).tBodies[0]; clear(tb);
    list.forEach(function (w) {
      var cells = [el('td', { text: w.name }), el('td', { text: matchText(w.matchers) }), el('td', { text: fmtTime(w.starts_at) }), el('td', { text: fmtTime(w.ends_at) })];
      if (id === 'maintenance') cells.push(el('td', { text: (w.recur_days ? t('days') + ' ' + w.recur_days.join(',') + ' ' : '') + (w.recur_hours || '') }));
      cells.push(el('td', { text: w.created_by }));
      var acts = el('td');
      if (can(role)) {
        var b = el('button', { type: 'button', cls: 'delete', text: t('deleteButton') });
        b.addEventListener('click', function () { if (confirm(t('confirmDelete'))) act(function () { return api('DELETE', path + w.id); }); });
        acts.appendChild(b);
      }
      cells.push(acts);
      tb.appendChild(el('tr', { 'data-window': String(w.id) }, cells));
    });
    if (list.length === 0) tb.appendChild(el('tr', {}, [el('td', { cls: 'muted', colspan: '7', text: t('none') })]));
  }

  // Newest generation first; each file a same-origin link the session cookie downloads.
  var FILE_ORDER = ['pdf', 'xlsx', 'html'];
  function ext(f) { var i = f.lastIndexOf('.'); return i < 0 ? '' : f.slice(i + 1).toLowerCase(); }
  function fileRank(f) { var i = FILE_ORDER.indexOf(ext(f)); return i < 0 ? FILE_ORDER.length : i; }
  function renderReports(list) {
    var tb = $('reports').tBodies[0]; clear(tb);
    list.slice().sort(function (a, b) { return b.generatedAt - a.generatedAt || (a.period < b.period ? 1 : a.period > b.period ? -1 : 0); }).forEach(function (r) {
      var files = el('td', { cls: 'files' });
      r.files.slice().sort(function (a, b) { return fileRank(a) - fileRank(b); }).forEach(function (f) {
        var href = '/v1/reports/' + encodeURIComponent(r.kind) + '/' + encodeURIComponent(r.period) + '/' + encodeURIComponent(f);
        files.appendChild(el('a', { href: href, download: 'kanshi-' + r.kind + '-' + r.period + '.' + ext(f), cls: 'file-' + ext(f), text: ext(f).toUpperCase() || f }));
        files.appendChild(document.createTextNode(' '));
      });
      if (r.pdfSkipped) files.appendChild(el('span', { cls: 'muted pdf-skipped', text: t('pdfSkipped') + r.pdfSkipped }));
      tb.appendChild(el('tr', { 'data-report': r.kind + '/' + r.period, 'data-kind': r.kind, 'data-period': r.period }, [
        el('td', { cls: 'kind', text: t('kind' + r.kind) }),
        el('td', { cls: 'period', text: r.period }),
        el('td', { cls: 'generated', text: fmtTime(r.generatedAt) }),
        files
      ]));
    });
    if (list.length === 0) tb.appendChild(el('tr', {}, [el('td', { cls: 'muted', colspan: '4', text: t('none') })]));
  }

  async function act(fn) {
    try { await fn(); showError(null); } catch (e) { showError(e); }
    await refresh();
  }

  // datetime-local gives "YYYY-MM-DDTHH:MM" with no zone: the console's times are JST.
  function jst(v) { return v + ':00+09:00'; }

  document.addEventListener('DOMContentLoaded', function () {
    $('lang').addEventListener('click', function () {
      lang = lang === 'ja' ? 'en' : 'ja';
      localStorage.setItem('kanshi.lang', lang);
      applyLang();
    });
    $('login-form').addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var p = $('login-error'); p.hidden = true;
      try {
        var s = await api('POST', '/console/login', { token: $('token').value });
        $('token').value = '';
        showApp(s);
      } catch (e) {
        p.hidden = false; p.textContent = e.status === 429 ? t('loginLimited') : e.status === 401 ? t('loginFailed') : String(e.message);
      }
    });
    $('logout').addEventListener('click', async function () {
      try { await api('POST', '/console/logout'); } catch (e) { /* the session may have expired already */ }
      // A fresh page: nothing of the last user's data stays in the document.
      location.replace('/');
    });
    $('maintenance-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var f = ev.target; var match = {};
      function fv(n) { return f.elements.namedItem(n).value; }
      fv('match').split(',').forEach(function (kv) {
        var i = kv.indexOf('=');
        if (i > 0) match[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
      });
      var body = { name: fv('name'), match: match, start: jst(fv('start')), end: jst(fv('end')) };
      if (fv('comment') !== '') body.comment = fv('comment');
      act(async function () { await api('POST', '/v1/maintenance', body); f.reset(); });
    });
    applyLang();
    fetch('/console/session', { credentials: 'same-origin', headers: { accept: 'application/json' } }).then(function (r) {
      if (r.status === 200) return r.json().then(showApp);
      showLogin();
    }).catch(function () { showLogin(); });
  });
})();
`
