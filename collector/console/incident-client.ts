// The incident view's browser script, served as /console-incident.js: plain ES2020 in a
// string like console.js. It reads /v1/incidents/:id with the console session and, for an
// operator, sends the write-up (PATCH), notices (POST, PATCH, DELETE), merges and splits with
// the session's CSRF token. Times read and typed in the collector's report.timezone.

export const INCIDENT_JS = String.raw`'use strict';
(function () {
  var T = {
    ja: {
      console: '監視コンソール', langToggle: 'English', loginFirst: 'コンソールにログインしてください。', title: '障害', timeline: '経過', writeUp: '障害の内容',
      cause: '原因', impact: '影響', affectedUsers: '影響を受けた利用者', systems: '対象システム (カンマ区切り)', sys: '対象システム', actions: '対応内容', prevention: '再発防止策',
      confirmed: '復旧確認 ({tz})', serviceAffecting: 'サービス影響', major: '重大障害', auto: '自動判定', yes: 'あり', no: 'なし',
      exemptCategory: '免責区分 (空欄: 免責なし)', exemptReason: '免責理由', save: '保存', notices: '利用者への告知', message: '告知内容',
      expected: '復旧見込み ({tz})', publish: '告知を掲載', alerts: '関連アラート', report: '障害報告書', reportHtml: 'HTML', reportXlsx: 'Excel',
      reportCli: 'コマンドでの作成:', history: '変更履歴', detected: '検知', notified: '担当者への通知', acked: '対応開始', userNotice: '利用者への告知',
      resolved: '復旧', confirmedAt: '復旧確認', hosts: 'ホスト', severity: '重要度', exempt: '免責', none: 'なし', open: '継続中', saved: '保存しました。', published: '掲載しました。',
      autoSeverity: '自動 (アラートの最高)', mergeLabel: 'この障害に統合するアラート番号', merge: '統合', splitHint: '統合したアラートは、一覧の「分離」で戻せます。', split: '分離',
      merged: '統合しました。', splitDone: '分離しました。', correct: '訂正', withdraw: '取り下げ', withdrawn: '取り下げ済み', corrected: '訂正',
      correctPrompt: '訂正後の告知内容 (状況ページに表示されます)', confirmWithdraw: 'この告知を取り下げますか? 状況ページから消えます (記録は残ります)。', withdrawnDone: '取り下げました。', correctedDone: '訂正しました。'
    },
    en: {
      console: 'Operator console', langToggle: '日本語', loginFirst: 'Please log in to the console.', title: 'Incident', timeline: 'Timeline', writeUp: 'Write-up',
      cause: 'Cause', impact: 'Impact', affectedUsers: 'Users affected', systems: 'Systems (comma-separated)', sys: 'Systems', actions: 'Actions taken', prevention: 'Prevention',
      confirmed: 'Recovery confirmed ({tz})', serviceAffecting: 'Service affected', major: 'Major incident', auto: 'automatic', yes: 'yes', no: 'no',
      exemptCategory: 'Exemption category (empty: not exempt)', exemptReason: 'Exemption reason', save: 'Save', notices: 'Notices to users', message: 'Notice',
      expected: 'Expected recovery ({tz})', publish: 'Publish notice', alerts: 'Alerts', report: 'Incident report', reportHtml: 'HTML', reportXlsx: 'Excel',
      reportCli: 'From the command line:', history: 'Edit history', detected: 'Detected', notified: 'On-call notified', acked: 'Acknowledged', userNotice: 'Users notified',
      resolved: 'Recovered', confirmedAt: 'Recovery confirmed', hosts: 'Hosts', severity: 'Severity', exempt: 'Exempt', none: 'none', open: 'ongoing', saved: 'Saved.', published: 'Published.',
      autoSeverity: 'automatic (highest alert)', mergeLabel: 'Alert number to merge into this incident', merge: 'Merge', splitHint: 'A merged alert goes back with "Split" in the list.', split: 'Split',
      merged: 'Merged.', splitDone: 'Split off.', correct: 'Correct', withdraw: 'Withdraw', withdrawn: 'withdrawn', corrected: 'corrected',
      correctPrompt: 'Corrected notice (shown on the status page)', confirmWithdraw: 'Withdraw this notice? It leaves the status page (the record keeps it).', withdrawnDone: 'Withdrawn.', correctedDone: 'Corrected.'
    }
  };
  var lang = localStorage.getItem('kanshi.lang') === 'en' ? 'en' : 'ja';
  var me = null;
  var TZ = 'Asia/Tokyo';
  var id = Number((/\/console\/incidents\/(\d+)/.exec(location.pathname) || [])[1]);
  function t(k) { return T[lang][k] !== undefined ? T[lang][k].replace('{tz}', TZ) : k; }
  function $(x) { return document.getElementById(x); }
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === 'text') e.textContent = attrs[k]; else if (k === 'cls') e.className = attrs[k]; else e.setAttribute(k, attrs[k]); });
    (kids || []).forEach(function (c) { if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function fmt(ms) { return ms === null || ms === undefined ? '—' : new Date(ms).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: TZ, timeZoneName: 'short' }); }
  // offset: how far TZ's wall clock is ahead of UTC at instant ms.
  function offset(ms) {
    var p = {}; new Intl.DateTimeFormat('en-US', { timeZone: TZ, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(ms)).forEach(function (x) { p[x.type] = Number(x.value); });
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
  }
  function local(ms) { if (ms === null) return ''; return new Date(ms + offset(ms)).toISOString().slice(0, 16); }
  // zoned: a datetime-local value read as TZ's wall time, as an ISO instant (twice: the offset may change at that time).
  function zoned(v) { if (v === '') return null; var w = Date.parse(v + ':00Z'); var ms = w - offset(w); ms = w - offset(ms); return new Date(ms).toISOString(); }
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
    if (d.timezone && d.timezone !== TZ) { TZ = d.timezone; applyLang(); }
    var operator = !!(me && (me.role === 'operator' || me.role === 'admin'));
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
    form.hidden = !operator;
    $('notice-form').hidden = !operator;
    $('merge-form').hidden = !operator;
    var fe = form.elements;
    fe.namedItem('cause').value = p.cause_text; fe.namedItem('impact').value = p.impact; fe.namedItem('users').value = p.affected_users;
    fe.namedItem('systems').value = p.systems.join(', '); fe.namedItem('actions').value = p.actions; fe.namedItem('prevention').value = p.prevention;
    fe.namedItem('confirmed').value = local(p.confirmed_recovery_at);
    fe.namedItem('serviceAffecting').value = p.service_affecting === null ? '' : String(p.service_affecting === 1);
    fe.namedItem('major').value = p.major_override === null ? '' : String(p.major_override === 1);
    fe.namedItem('severity').value = p.severity_override || '';
    fe.namedItem('exemptCategory').value = p.exempt_category || ''; fe.namedItem('exemptReason').value = p.exempt_reason || '';
    var nl = $('notices'); clear(nl);
    d.notices.forEach(function (n) {
      var gone = n.withdrawn_at !== null && n.withdrawn_at !== undefined;
      var li = el('li', { 'data-notice': String(n.id), cls: gone ? 'muted withdrawn' : '' }, [fmt(n.published_at) + ' — ' + n.message + (n.expected_recovery_at !== null ? ' (' + t('expected') + ': ' + fmt(n.expected_recovery_at) + ')' : '') + ' [' + n.published_by + ']' +
        (n.corrected_at ? ' (' + t('corrected') + ' ' + fmt(n.corrected_at) + ')' : '') + (gone ? ' (' + t('withdrawn') + ' ' + fmt(n.withdrawn_at) + ')' : '')]);
      if (operator && !gone) {
        var path = '/v1/incidents/' + d.primary + '/notices/' + n.id;
        var fix = el('button', { type: 'button', cls: 'notice-correct', text: t('correct') });
        fix.addEventListener('click', function () { var m = prompt(t('correctPrompt'), n.message); if (m !== null && m.trim() !== '' && m !== n.message) act(function () { return api('PATCH', path, { message: m }); }, 'correctedDone'); });
        var wd = el('button', { type: 'button', cls: 'notice-withdraw', text: t('withdraw') });
        wd.addEventListener('click', function () { if (confirm(t('confirmWithdraw'))) act(function () { return api('DELETE', path); }, 'withdrawnDone'); });
        li.appendChild(document.createTextNode(' ')); li.appendChild(fix); li.appendChild(document.createTextNode(' ')); li.appendChild(wd);
      }
      nl.appendChild(li);
    });
    if (d.notices.length === 0) nl.appendChild(el('li', { cls: 'muted', text: t('none') }));
    var tb = $('alerts').tBodies[0]; clear(tb);
    [p].concat(d.members).forEach(function (i) {
      tb.appendChild(el('tr', { 'data-incident': String(i.id) }, [el('td', { text: '#' + i.id }), el('td', { cls: 'sev-' + i.severity, text: i.severity }), el('td', { text: i.host }),
        el('td', { text: lang === 'en' && i.summary_en ? i.summary_en : i.summary }), el('td', { text: fmt(i.detected_at) + ' – ' + (i.resolved_at === null ? t('open') : fmt(i.resolved_at)) })]));
      if (operator && i.id !== p.id) {
        var b = el('button', { type: 'button', cls: 'split', text: t('split') });
        b.addEventListener('click', function () { act(function () { return api('POST', '/v1/incidents/' + i.id + '/split'); }, 'splitDone'); });
        tb.lastChild.appendChild(el('td', {}, [b]));
      }
    });
    primary = d.primary;
    var hl = $('history'); clear(hl);
    d.history.forEach(function (h) { hl.appendChild(el('li', { text: fmt(h.at) + ' ' + h.actor + ' ' + h.action + ' ' + JSON.stringify(h.detail.after || h.detail.message || '') })); });
    if (d.history.length === 0) hl.appendChild(el('li', { cls: 'muted', text: t('none') }));
    $('report-html').setAttribute('href', '/v1/incidents/' + d.primary + '/report.html?lang=' + lang);
    $('report-xlsx').setAttribute('href', '/v1/incidents/' + d.primary + '/report.xlsx?lang=' + lang);
    $('report-cli').textContent = 'kanshi-report --incident ' + d.primary + ' --out ./incident-' + d.primary + ' --lang ' + lang + ' --config collector.yaml';
  }
  var primary = id;
  async function load() { render(await api('GET', '/v1/incidents/' + id)); }
  async function act(fn, done) { try { await fn(); await load(); say(t(done), false); } catch (e) { say(e.message, true); } }
  document.addEventListener('DOMContentLoaded', function () {
    applyLang();
    $('lang').addEventListener('click', function () { lang = lang === 'ja' ? 'en' : 'ja'; localStorage.setItem('kanshi.lang', lang); applyLang(); load().catch(function (e) { say(e.message, true); }); });
    $('write-up-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var fe = ev.target.elements; function v(n) { return fe.namedItem(n).value; }
      var body = { cause: v('cause'), impact: { description: v('impact'), users: v('users'), systems: v('systems').split(',').map(function (s) { return s.trim(); }).filter(Boolean) },
        actions: v('actions'), prevention: v('prevention'), confirmedRecoveryAt: zoned(v('confirmed')), serviceAffecting: flag(v('serviceAffecting')), major: flag(v('major')), severity: v('severity') === '' ? null : v('severity'),
        exempt: v('exemptCategory').trim() === '' ? null : { category: v('exemptCategory').trim(), reason: v('exemptReason').trim() || '-' } };
      act(function () { return api('PATCH', '/v1/incidents/' + id, body); }, 'saved');
    });
    $('notice-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var fe = ev.target.elements; var exp = zoned(fe.namedItem('expected').value);
      var body = { message: fe.namedItem('message').value }; if (exp !== null) body.expectedRecoveryAt = exp;
      act(async function () { await api('POST', '/v1/incidents/' + id + '/notices', body); ev.target.reset(); }, 'published');
    });
    $('merge-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var from = Number(ev.target.elements.namedItem('from').value);
      act(async function () { await api('POST', '/v1/incidents/' + from + '/merge', { into: primary }); ev.target.reset(); }, 'merged');
    });
    api('GET', '/console/session').then(function (s) {
      me = s; $('who').textContent = s.name + ' (' + s.role + ')'; $('view').hidden = false;
      return load();
    }).catch(function (e) { if (e.status === 401) $('login').hidden = false; else say(e.message, true); });
  });
})();
`
