// The incident view's browser script, served as /console-incident.js: plain ES2020 in a
// string like console.js. It reads /v1/incidents/:id with the console session and, for an
// operator, sends the write-up (PATCH) and notices (POST) with the session's CSRF token.

export const INCIDENT_JS = String.raw`'use strict';
(function () {
  var T = {
    ja: {
      console: '監視コンソール', langToggle: 'English', loginFirst: 'コンソールにログインしてください。', title: '障害', timeline: '経過', writeUp: '障害の内容',
      cause: '原因', impact: '影響', affectedUsers: '影響を受けた利用者', systems: '対象システム (カンマ区切り)', sys: '対象システム', actions: '対応内容', prevention: '再発防止策',
      confirmed: '復旧確認 (JST)', serviceAffecting: 'サービス影響', major: '重大障害', auto: '自動判定', yes: 'あり', no: 'なし',
      exemptCategory: '免責区分 (空欄: 免責なし)', exemptReason: '免責理由', save: '保存', notices: '利用者への告知', message: '告知内容',
      expected: '復旧見込み (JST)', publish: '告知を掲載', alerts: '関連アラート', report: '障害報告書', reportHtml: 'HTML', reportXlsx: 'Excel',
      reportCli: 'コマンドでの作成:', history: '変更履歴', detected: '検知', notified: '担当者への通知', acked: '対応開始', userNotice: '利用者への告知',
      resolved: '復旧', confirmedAt: '復旧確認', hosts: 'ホスト', severity: '重要度', exempt: '免責', none: 'なし', open: '継続中', saved: '保存しました。', published: '掲載しました。'
    },
    en: {
      console: 'Operator console', langToggle: '日本語', loginFirst: 'Please log in to the console.', title: 'Incident', timeline: 'Timeline', writeUp: 'Write-up',
      cause: 'Cause', impact: 'Impact', affectedUsers: 'Users affected', systems: 'Systems (comma-separated)', sys: 'Systems', actions: 'Actions taken', prevention: 'Prevention',
      confirmed: 'Recovery confirmed (JST)', serviceAffecting: 'Service affected', major: 'Major incident', auto: 'automatic', yes: 'yes', no: 'no',
      exemptCategory: 'Exemption category (empty: not exempt)', exemptReason: 'Exemption reason', save: 'Save', notices: 'Notices to users', message: 'Notice',
      expected: 'Expected recovery (JST)', publish: 'Publish notice', alerts: 'Alerts', report: 'Incident report', reportHtml: 'HTML', reportXlsx: 'Excel',
      reportCli: 'From the command line:', history: 'Edit history', detected: 'Detected', notified: 'On-call notified', acked: 'Acknowledged', userNotice: 'Users notified',
      resolved: 'Recovered', confirmedAt: 'Recovery confirmed', hosts: 'Hosts', severity: 'Severity', exempt: 'Exempt', none: 'none', open: 'ongoing', saved: 'Saved.', published: 'Published.'
    }
  };
  var lang = localStorage.getItem('kanshi.lang') === 'en' ? 'en' : 'ja';
  var me = null;
  var id = Number((/\/console\/incidents\/(\d+)/.exec(location.pathname) || [])[1]);
  function t(k) { return T[lang][k] !== undefined ? T[lang][k] : k; }
  function $(x) { return document.getElementById(x); }
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === 'text') e.textContent = attrs[k]; else if (k === 'cls') e.className = attrs[k]; else e.setAttribute(k, attrs[k]); });
    (kids || []).forEach(function (c) { if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function fmt(ms) { return ms === null || ms === undefined ? '—' : new Date(ms).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: 'Asia/Tokyo', timeZoneName: 'short' }); }
  function local(ms) { if (ms === null) return ''; var d = new Date(ms + 9 * 3600000); return d.toISOString().slice(0, 16); }
  function jst(v) { return v === '' ? null : v + ':00+09:00'; }
  function flag(v) { return v === '' ? null : v === 'true'; }
  async function api(method, url, body) {
    var headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && me !== null) headers['x-csrf-token'] = me.csrf;
    var r = await fetch(url, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
    var data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) { var err = new Error((data && data.message) || ('HTTP ' + r.status)); err.status = r.status; throw err; }
    return data;
  }
  function say(text, isError) { var p = $('error'); p.textContent = text; p.hidden = false; p.className = isError ? 'error' : 'ok'; }
  function applyLang() {
    document.documentElement.lang = lang;
    document.querySelectorAll('[data-i18n]').forEach(function (e) { e.textContent = t(e.getAttribute('data-i18n')); });
  }
  function render(d) {
    var p = d.incident, f = d.folded;
    $('title').textContent = t('title') + ' #' + d.primary + ' ' + (lang === 'en' && p.summary_en ? p.summary_en : p.summary);
    var tl = $('timeline'); clear(tl);
    [['detected', f.detected_at], ['notified', f.notified_at], ['acked', f.acked_at], ['userNotice', p.user_notice_at], ['resolved', f.resolved_at], ['confirmedAt', p.confirmed_recovery_at]].forEach(function (r) {
      tl.appendChild(el('dt', { text: t(r[0]) })); tl.appendChild(el('dd', { text: r[1] === null && r[0] === 'resolved' ? t('open') : fmt(r[1]), 'data-key': r[0] }));
    });
    var wu = $('write-up'); clear(wu);
    [['sys', f.systems.join(', ')], ['hosts', f.hosts.join(', ')], ['severity', f.severity], ['cause', p.cause_text], ['impact', p.impact], ['affectedUsers', p.affected_users],
      ['actions', p.actions], ['prevention', p.prevention], ['exempt', p.exempt_category === null ? t('none') : p.exempt_category + ': ' + (p.exempt_reason || '')]].forEach(function (r) {
      wu.appendChild(el('dt', { text: t(r[0]) })); wu.appendChild(el('dd', { text: r[1] || '—', 'data-key': r[0] }));
    });
    var form = $('write-up-form');
    form.hidden = !(me && (me.role === 'operator' || me.role === 'admin'));
    $('notice-form').hidden = form.hidden;
    var fe = form.elements;
    fe.namedItem('cause').value = p.cause_text; fe.namedItem('impact').value = p.impact; fe.namedItem('users').value = p.affected_users;
    fe.namedItem('systems').value = p.systems.join(', '); fe.namedItem('actions').value = p.actions; fe.namedItem('prevention').value = p.prevention;
    fe.namedItem('confirmed').value = local(p.confirmed_recovery_at);
    fe.namedItem('serviceAffecting').value = p.service_affecting === null ? '' : String(p.service_affecting === 1);
    fe.namedItem('major').value = p.major_override === null ? '' : String(p.major_override === 1);
    fe.namedItem('exemptCategory').value = p.exempt_category || ''; fe.namedItem('exemptReason').value = p.exempt_reason || '';
    var nl = $('notices'); clear(nl);
    d.notices.forEach(function (n) { nl.appendChild(el('li', { text: fmt(n.published_at) + ' — ' + n.message + (n.expected_recovery_at !== null ? ' (' + t('expected') + ': ' + fmt(n.expected_recovery_at) + ')' : '') + ' [' + n.published_by + ']' })); });
    if (d.notices.length === 0) nl.appendChild(el('li', { cls: 'muted', text: t('none') }));
    var tb = $('alerts').tBodies[0]; clear(tb);
    [p].concat(d.members).forEach(function (i) {
      tb.appendChild(el('tr', { 'data-incident': String(i.id) }, [el('td', { text: '#' + i.id }), el('td', { cls: 'sev-' + i.severity, text: i.severity }), el('td', { text: i.host }),
        el('td', { text: lang === 'en' && i.summary_en ? i.summary_en : i.summary }), el('td', { text: fmt(i.detected_at) + ' – ' + (i.resolved_at === null ? t('open') : fmt(i.resolved_at)) })]));
    });
    var hl = $('history'); clear(hl);
    d.history.forEach(function (h) { hl.appendChild(el('li', { text: fmt(h.at) + ' ' + h.actor + ' ' + h.action + ' ' + JSON.stringify(h.detail.after || h.detail.message || '') })); });
    if (d.history.length === 0) hl.appendChild(el('li', { cls: 'muted', text: t('none') }));
    $('report-html').setAttribute('href', '/v1/incidents/' + d.primary + '/report.html?lang=' + lang);
    $('report-xlsx').setAttribute('href', '/v1/incidents/' + d.primary + '/report.xlsx?lang=' + lang);
    $('report-cli').textContent = 'kanshi-report --incident ' + d.primary + ' --out ./incident-' + d.primary + ' --lang ' + lang + ' --config collector.yaml';
  }
  async function load() { render(await api('GET', '/v1/incidents/' + id)); }
  async function act(fn, done) { try { await fn(); await load(); say(t(done), false); } catch (e) { say(e.message, true); } }
  document.addEventListener('DOMContentLoaded', function () {
    applyLang();
    $('lang').addEventListener('click', function () { lang = lang === 'ja' ? 'en' : 'ja'; localStorage.setItem('kanshi.lang', lang); applyLang(); load().catch(function (e) { say(e.message, true); }); });
    $('write-up-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var fe = ev.target.elements; function v(n) { return fe.namedItem(n).value; }
      var body = { cause: v('cause'), impact: { description: v('impact'), users: v('users'), systems: v('systems').split(',').map(function (s) { return s.trim(); }).filter(Boolean) },
        actions: v('actions'), prevention: v('prevention'), confirmedRecoveryAt: jst(v('confirmed')), serviceAffecting: flag(v('serviceAffecting')), major: flag(v('major')),
        exempt: v('exemptCategory').trim() === '' ? null : { category: v('exemptCategory').trim(), reason: v('exemptReason').trim() || '-' } };
      act(function () { return api('PATCH', '/v1/incidents/' + id, body); }, 'saved');
    });
    $('notice-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var fe = ev.target.elements; var exp = jst(fe.namedItem('expected').value);
      var body = { message: fe.namedItem('message').value }; if (exp !== null) body.expectedRecoveryAt = exp;
      act(async function () { await api('POST', '/v1/incidents/' + id + '/notices', body); ev.target.reset(); }, 'published');
    });
    api('GET', '/console/session').then(function (s) {
      me = s; $('who').textContent = s.name + ' (' + s.role + ')'; $('view').hidden = false;
      return load();
    }).catch(function (e) { if (e.status === 401) $('login').hidden = false; else say(e.message, true); });
  });
})();
`
