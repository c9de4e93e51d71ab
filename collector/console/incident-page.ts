// The console's incident view (/console/incidents/:id): one 障害 with its timeline, alerts,
// notices and history; an operator edits the write-up, publishes, corrects and withdraws notices,
// and merges or splits alerts here. Times are shown and typed in report.timezone.
// Static text only: /console-incident.js fills in the data, as text, in the chosen language.

export const INCIDENT_HTML = `<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>kanshi 障害</title>
<link rel="stylesheet" href="/console.css">
<script src="/console-incident.js" defer></script>
</head>
<body>
<header>
  <h1><a href="/" class="home" data-i18n="console">監視コンソール</a> › <span id="title"></span></h1>
  <div class="right"><span id="who"></span><button type="button" id="lang" data-i18n="langToggle">English</button></div>
</header>
<main>
  <p id="error" class="error" role="alert" hidden></p>
  <p id="login" hidden><a href="/" data-i18n="loginFirst">コンソールにログインしてください。</a></p>
  <div id="view" hidden>
    <section><h2 data-i18n="timeline">経過</h2><dl id="timeline"></dl></section>
    <section><h2 data-i18n="writeUp">障害の内容</h2><dl id="write-up"></dl>
      <form id="write-up-form" hidden autocomplete="off">
        <label><span data-i18n="cause">原因</span><br><textarea name="cause" rows="3" cols="80" maxlength="20000"></textarea></label><br>
        <label><span data-i18n="impact">影響</span><br><textarea name="impact" rows="2" cols="80" maxlength="20000"></textarea></label><br>
        <label><span data-i18n="affectedUsers">影響を受けた利用者</span> <input name="users" size="40" maxlength="2000"></label>
        <label><span data-i18n="systems">対象システム (カンマ区切り)</span> <input name="systems" size="40"></label><br>
        <label><span data-i18n="actions">対応内容</span><br><textarea name="actions" rows="3" cols="80" maxlength="20000"></textarea></label><br>
        <label><span data-i18n="prevention">再発防止策</span><br><textarea name="prevention" rows="3" cols="80" maxlength="20000"></textarea></label><br>
        <label><span data-i18n="confirmed">復旧確認</span> <input name="confirmed" type="datetime-local"></label>
        <label><span data-i18n="serviceAffecting">サービス影響</span> <select name="serviceAffecting"><option value="" data-i18n="auto">自動判定</option><option value="true" data-i18n="yes">あり</option><option value="false" data-i18n="no">なし</option></select></label>
        <label><span data-i18n="major">重大障害</span> <select name="major"><option value="" data-i18n="auto">自動判定</option><option value="true" data-i18n="yes">あり</option><option value="false" data-i18n="no">なし</option></select></label><br>
        <label><span data-i18n="severity">重要度</span> <select name="severity"><option value="" data-i18n="autoSeverity">自動 (アラートの最高)</option><option value="critical">critical</option><option value="warning">warning</option><option value="info">info</option></select></label><br>
        <label><span data-i18n="exemptCategory">免責区分 (空欄: 免責なし)</span> <input name="exemptCategory" maxlength="100"></label>
        <label><span data-i18n="exemptReason">免責理由</span> <input name="exemptReason" size="50" maxlength="2000"></label><br>
        <button type="submit" data-i18n="save">保存</button>
      </form>
    </section>
    <section><h2 data-i18n="notices">利用者への告知</h2><ul id="notices"></ul>
      <form id="notice-form" hidden autocomplete="off">
        <label><span data-i18n="message">告知内容</span><br><textarea name="message" rows="2" cols="80" required maxlength="4000"></textarea></label><br>
        <label><span data-i18n="expected">復旧見込み</span> <input name="expected" type="datetime-local"></label>
        <button type="submit" data-i18n="publish">告知を掲載</button>
      </form>
    </section>
    <section><h2 data-i18n="alerts">関連アラート</h2><table id="alerts"><tbody></tbody></table>
    <form id="merge-form" hidden autocomplete="off">
      <label><span data-i18n="mergeLabel">この障害に統合するアラート番号</span> <input name="from" type="number" min="1" required size="8"></label>
      <button type="submit" data-i18n="merge">統合</button> <span class="muted" data-i18n="splitHint">統合したアラートは、一覧の「分離」で戻せます。</span>
    </form></section>
    <section><h2 data-i18n="report">障害報告書</h2><p><a id="report-html" data-i18n="reportHtml">HTML</a> · <a id="report-xlsx" data-i18n="reportXlsx">Excel</a></p>
      <p class="muted"><span data-i18n="reportCli">コマンドでの作成:</span> <code id="report-cli"></code></p></section>
    <section><h2 data-i18n="history">変更履歴</h2><ul id="history"></ul></section>
  </div>
</main>
</body>
</html>
`
