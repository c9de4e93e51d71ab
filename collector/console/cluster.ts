// The console's クラスタ (cluster) section and GET /api/v1/cluster (viewer): this node, the
// leader and its epoch, PostgreSQL's state and every node with its agents. Hidden when the
// collector runs alone. Texts in ja and en; data inserted as text, never as HTML.

import type { FastifyPluginAsync } from 'fastify'
import type { Guard } from '../api/auth.js'
import type { ClusterStatus } from '../cluster/index.js'
import { pollScript } from './section-poll.js'

export const CLUSTER_SECTION_HTML = `
    <section id="cluster-section" hidden>
      <h2 data-cl="title">クラスタ</h2>
      <p id="cluster-summary"></p>
      <p id="cluster-degraded" class="warn" hidden></p>
      <table id="cluster-nodes"><thead><tr>
        <th data-cl="node">ノード</th><th data-cl="state">状態</th><th data-cl="agents">エージェント</th><th data-cl="lastSeen">最終確認</th><th data-cl="started">起動</th><th data-cl="version">版</th><th data-cl="address">アドレス</th>
      </tr></thead><tbody></tbody></table>
    </section>`

export const CLUSTER_JS = `'use strict';
(function () {
  var T = {
    ja: { title: 'クラスタ', node: 'ノード', state: '状態', agents: 'エージェント', lastSeen: '最終確認', started: '起動', version: '版', address: 'アドレス',
      live: '稼働', down: '停止 (応答なし)', cutOff: 'PostgreSQL 接続不可 (応答あり・収集継続)', stopped: '停止 (正常終了)', leader: 'リーダー', self: 'このノード', pgUp: 'PostgreSQL: 接続中', pgDown: 'PostgreSQL: 接続不可 — 収集は継続、リーダー業務は停止',
      summary: 'このノード {self} / リーダー {leader} (epoch {epoch})', none: '不明',
      degraded: 'アラート: 縮退運転中 ({since} から) — PostgreSQL に接続できないため、重大アラートはこのノードが単独で送信 (件名に [縮退運転])。保留中のメール {held} 件は復旧後に照合して送信' },
    en: { title: 'Cluster', node: 'Node', state: 'State', agents: 'Agents', lastSeen: 'Last seen', started: 'Started', version: 'Version', address: 'Address',
      live: 'live', down: 'down (silent)', cutOff: 'cut off from PostgreSQL (answers, collecting)', stopped: 'stopped (graceful)', leader: 'leader', self: 'this node', pgUp: 'PostgreSQL: connected', pgDown: 'PostgreSQL: unreachable — ingest goes on, leader jobs stopped',
      summary: 'This node {self} / leader {leader} (epoch {epoch})', none: 'unknown',
      degraded: 'Alerting: degraded since {since} — PostgreSQL unreachable, critical alerts are mailed by this node alone (subject [DEGRADED]). {held} mails held until the database returns and is reconciled' }
  };
  var last = null;
  function lang() { return document.documentElement.lang === 'en' ? 'en' : 'ja'; }
  function t(k) { return T[lang()][k] || k; }
  function td(text, cls) { var e = document.createElement('td'); e.textContent = text; if (cls) e.className = cls; return e; }
  function time(ms) { return new Date(ms + 9 * 3600000).toISOString().slice(0, 19).replace('T', ' '); }
  function render() {
    document.querySelectorAll('[data-cl]').forEach(function (e) { e.textContent = t(e.getAttribute('data-cl')); });
    var sec = document.getElementById('cluster-section');
    sec.hidden = last === null || !last.enabled;
    if (sec.hidden) return;
    var s = last.status;
    var p = document.getElementById('cluster-summary');
    p.textContent = t('summary').replace('{self}', s.node).replace('{leader}', s.leader || t('none')).replace('{epoch}', s.epoch === undefined || s.epoch === null ? '—' : String(s.epoch)) +
      ' · ' + (s.pgUp ? t('pgUp') : t('pgDown') + (s.pgError ? ' (' + s.pgError + ')' : '')) + ' · ' + s.postgres;
    p.className = s.pgUp ? '' : 'warn';
    var dg = document.getElementById('cluster-degraded');
    var a = s.alerting;
    dg.hidden = !(a && a.degraded);
    if (!dg.hidden) dg.textContent = t('degraded').replace('{since}', a.since ? time(a.since) + ' JST' : '—').replace('{held}', String(a.held));
    var tb = document.getElementById('cluster-nodes').tBodies[0];
    while (tb.firstChild) tb.removeChild(tb.firstChild);
    s.nodes.forEach(function (n) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-node', n.node);
      var tags = [];
      if (n.node === s.leader) tags.push(t('leader'));
      if (n.node === s.node) tags.push(t('self'));
      tr.appendChild(td(n.node + (tags.length ? ' (' + tags.join(', ') + ')' : '')));
      var st = n.state === 'cut_off' ? 'cutOff' : n.live ? 'live' : n.stoppedAt !== null ? 'stopped' : 'down';
      tr.appendChild(td(t(st) + (st === 'cutOff' && n.peer && n.peer.degraded ? ' — ' + (lang() === 'en' ? 'degraded (縮退運転)' : '縮退運転中') : ''), st === 'down' ? 'bad' : st === 'stopped' || st === 'cutOff' ? 'warn' : ''));
      tr.appendChild(td(String(n.agents)));
      tr.appendChild(td(time(n.lastSeen)));
      tr.appendChild(td(time(n.startedAt)));
      tr.appendChild(td(n.version));
      tr.appendChild(td(n.address));
      tb.appendChild(tr);
    });
  }
${pollScript('/api/v1/cluster', 10000)}})();
`

export interface ConsoleClusterOptions {
  need: Guard
  cluster: { status: () => ClusterStatus } | undefined
}

/** consoleCluster serves the section's script (public: it holds no data) and the viewer's GET /api/v1/cluster. */
export const consoleCluster: FastifyPluginAsync<ConsoleClusterOptions> = async (app, o) => {
  app.get('/console-cluster.js', { logLevel: 'warn' }, async (_req, reply) => await reply.type('text/javascript; charset=utf-8').send(CLUSTER_JS))
  app.get('/api/v1/cluster', { onRequest: o.need('viewer') }, async () => o.cluster === undefined ? { enabled: false } : { enabled: true, status: o.cluster.status() })
}
