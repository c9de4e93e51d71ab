// The console's document and style sheet. Static text only: /console.js fills
// in the data (as text, never as HTML) and the labels of the chosen language.

import { DEVICES_SECTION } from './devices.js'
import { INVENTORY_SECTION_HTML } from './inventory.js'
import { CLUSTER_SECTION_HTML } from './cluster.js'

export const CONSOLE_HTML = `<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>kanshi 監視コンソール</title>
<link rel="stylesheet" href="/console.css">
<script src="/console.js" defer></script>
<script src="/console-devices.js" defer></script>
<script src="/console-inventory.js" defer></script>
<script src="/console-cluster.js" defer></script>
</head>
<body>
<header>
  <h1><span data-i18n="title">監視コンソール</span></h1>
  <div class="right">
    <span id="who" hidden></span>
    <button type="button" id="lang" data-i18n="langToggle">English</button>
    <button type="button" id="logout" hidden data-i18n="logout">ログアウト</button>
  </div>
</header>
<main>
  <section id="login-view" hidden>
    <h2 data-i18n="loginTitle">ログイン</h2>
    <form id="login-form" autocomplete="off">
      <label for="token" data-i18n="tokenLabel">API トークン</label>
      <input type="password" id="token" name="token" required maxlength="512">
      <button type="submit" id="login-button" data-i18n="login">ログイン</button>
      <p id="login-error" class="error" role="alert" hidden></p>
    </form>
  </section>
  <div id="app-view" hidden>
    <p id="error" class="error" role="alert" hidden></p>
    <section id="health-section">
      <h2 data-i18n="health">コレクターの状態</h2>
      <dl id="health"></dl>
      <ul id="problems" class="problems"></ul>
      <p id="grafana"></p>
    </section>
    <section id="agents-section">
      <h2 data-i18n="agents">エージェント</h2>
      <table id="agents"><thead><tr>
        <th data-i18n="agent">エージェント</th><th data-i18n="state">状態</th><th data-i18n="lastSeen">最終受信</th>
        <th data-i18n="version">バージョン</th><th data-i18n="spool">未送信 (spool)</th><th data-i18n="skew">時刻ずれ</th><th></th>
      </tr></thead><tbody></tbody></table>
    </section>${DEVICES_SECTION}
    <section id="alerts-section">
      <h2 data-i18n="alerts">発生中のアラート</h2>
      <p id="alerting-off" hidden data-i18n="alertingOff">アラート通知は設定されていません (collector.yaml の alerting:)。</p>
      <table id="alerts"><thead><tr>
        <th data-i18n="severity">重要度</th><th data-i18n="host">ホスト</th><th data-i18n="summary">概要</th>
        <th data-i18n="since">発生</th><th data-i18n="ack">対応</th><th></th>
      </tr></thead><tbody></tbody></table>
      <h3 data-i18n="pending">保留中 (for 待ち)</h3>
      <ul id="pending"></ul>
    </section>
    <section id="incidents-section" hidden>
      <h2 data-i18n="incidents">障害 (直近 30 日)</h2>
      <table id="incidents"><thead><tr>
        <th>#</th><th data-i18n="severity">重要度</th><th data-i18n="summary">概要</th><th data-i18n="systemsCol">対象システム</th>
        <th data-i18n="resolvedCol">検知 – 復旧</th><th data-i18n="writeUpCol">記録</th>
      </tr></thead><tbody></tbody></table>
    </section>
    <section id="silences-section">
      <h2 data-i18n="silences">サイレンス</h2>
      <table id="silences"><thead><tr>
        <th data-i18n="name">名前</th><th data-i18n="match">対象</th><th data-i18n="start">開始</th><th data-i18n="end">終了</th><th data-i18n="by">作成者</th><th></th>
      </tr></thead><tbody></tbody></table>
    </section>
    <section id="maintenance-section">
      <h2 data-i18n="maintenance">メンテナンス期間</h2>
      <table id="maintenance"><thead><tr>
        <th data-i18n="name">名前</th><th data-i18n="match">対象</th><th data-i18n="start">開始</th><th data-i18n="end">終了</th><th data-i18n="recur">繰り返し</th><th data-i18n="by">作成者</th><th></th>
      </tr></thead><tbody></tbody></table>
      <form id="maintenance-form" hidden autocomplete="off">
        <h3 data-i18n="addMaintenance">メンテナンス期間を追加</h3>
        <label><span data-i18n="name">名前</span> <input name="name" required maxlength="200"></label>
        <label><span data-i18n="matchInput">対象 (tag=値, …)</span> <input name="match" required placeholder="host=web01"></label>
        <label><span data-i18n="startJst">開始 (JST)</span> <input name="start" type="datetime-local" required></label>
        <label><span data-i18n="endJst">終了 (JST)</span> <input name="end" type="datetime-local" required></label>
        <label><span data-i18n="comment">コメント</span> <input name="comment" maxlength="1000"></label>
        <button type="submit" data-i18n="add">追加</button>
      </form>
    </section>
${INVENTORY_SECTION_HTML}
${CLUSTER_SECTION_HTML}
    <section id="reports-section">
      <h2 data-i18n="reports">報告書</h2>
      <table id="reports"><thead><tr>
        <th data-i18n="reportKind">種類</th><th data-i18n="period">対象期間</th><th data-i18n="generatedAt">作成日時</th><th data-i18n="download">ダウンロード</th>
      </tr></thead><tbody></tbody></table>
    </section>
    <footer><span data-i18n="updated">更新</span>: <span id="updated"></span></footer>
  </div>
</main>
</body>
</html>
`

export const CONSOLE_CSS = `
:root { --ok: #1b7f3b; --warn: #a86400; --bad: #b3261e; --muted: #666; font-family: "Noto Sans JP", "Hiragino Sans", "Yu Gothic", Meiryo, sans-serif; }
body { margin: 0; color: #1d1d1d; background: #f6f7f9; }
header { display: flex; justify-content: space-between; align-items: center; padding: .5rem 1rem; background: #1f3a5f; color: #fff; }
header h1 { font-size: 1.2rem; margin: 0; }
header .right { display: flex; gap: .5rem; align-items: center; }
main { padding: 1rem; max-width: 1400px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: .5rem 1rem 1rem; margin-bottom: 1rem; }
h2 { font-size: 1.05rem; }
h3 { font-size: .95rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eceef1; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; }
.state-online, .ok { color: var(--ok); font-weight: 600; }
.state-offline, .warn { color: var(--warn); font-weight: 600; }
.state-down, .bad, .sev-critical { color: var(--bad); font-weight: 600; }
.sev-warning { color: var(--warn); font-weight: 600; }
.error { color: var(--bad); }
.problems li { color: var(--bad); }
.muted { color: var(--muted); }
button { cursor: pointer; }
td.files a { margin-right: .25rem; }
form label { display: inline-block; margin: .25rem .75rem .25rem 0; }
#login-form { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
#token { min-width: 24rem; }
footer { color: var(--muted); font-size: .8rem; }
`
