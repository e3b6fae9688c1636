// Drives two code-servers side by side for bench/vscode_explain_stop.py (one with inkstream, one
// with the baseline extension): per run, in each, explains a fresh file, lets the panel stream until
// it shows DRIVE_STOP_AFTER characters, then stops it: with the panel's Stop button ('stop'), or by
// closing the panel's tab ('close'). Runs rotate the order (AB, BA, ...). One JSON line per
// observation, with the wall-clock time the click started and, for Stop, when the webview's click
// handler ran.
//
// Env: INKSTREAM_PLAYWRIGHT_CORE, INKSTREAM_CHROMIUM, DRIVE_TARGETS (JSON: [{name, url, workspace,
// explain: command title, panel: panel title}]), DRIVE_RUNS, DRIVE_FILE_PATTERN (e.g. "run{i}.py":
// run i stops file 2i and closes file 2i+1), DRIVE_STOP_AFTER (characters shown before stopping).
import { driveTargets, emit, palette, sleep } from './harness.mjs';

const env = process.env;
const targets = JSON.parse(env.DRIVE_TARGETS);
const runs = Number(env.DRIVE_RUNS ?? 10);
const stopAfter = Number(env.DRIVE_STOP_AFTER ?? 1000);

/** The renderer's cumulative counters for the page (seconds), through the DevTools protocol. */
async function metrics(page) {
  page.cdp ??= await page.context().newCDPSession(page);
  if (!page.cdpEnabled) {
    await page.cdp.send('Performance.enable');
    page.cdpEnabled = true;
  }
  const { metrics } = await page.cdp.send('Performance.getMetrics');
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

async function closeTab(tab) {
  await tab.hover();
  await tab.locator('.tab-actions .action-label').first().click();
}

async function once(page, target, file, how, run) {
  await palette(page, '', `${target.workspace}/${file}`);
  await page.waitForFunction((f) => document.title.startsWith(f), file, { timeout: 15000 });
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+A');
  await palette(page, '>', target.explain);
  const frame = page.frameLocator('iframe.webview.ready').first().frameLocator('#active-frame');
  const content = frame.locator('#content');
  await content.waitFor({ state: 'attached', timeout: 30000 });
  const started = Date.now();
  let length = 0;
  let before = null;
  while (Date.now() - started < 60000) {
    length = ((await content.textContent({ timeout: 5000 })) ?? '').length;
    if (length > 0 && before === null) {
      before = await metrics(page);
    }
    if (length >= stopAfter) {
      break;
    }
    await sleep(40);
  }
  // How busy the page's thread (the workbench and its webviews) was while the explanation streamed.
  const after = await metrics(page);
  const seconds = (after.Timestamp - before.Timestamp) || 1;
  const busy = Object.fromEntries(['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration']
    .map((k) => [k, (1000 * (after[k] - before[k])) / seconds]));
  const tab = page.locator('.tab', { hasText: target.panel });
  const stop = frame.locator('#stop');
  if (how === 'stop') {
    await stop.evaluate((button) => {
      button.addEventListener('click', () => (window.__benchClickedAt = Date.now()), { capture: true, once: true });
    });
  }
  const clickAt = Date.now();
  if (how === 'stop') {
    await stop.click();
  } else {
    await closeTab(tab);
  }
  const clickedAt = how === 'stop' ? await stop.evaluate(() => window.__benchClickedAt ?? null) : null;
  emit('stop', { target: target.name, run, file, how, length, clickAt, clickedAt, busy });
  if (how === 'stop') {
    await frame.locator('body.stopped').waitFor({ timeout: 15000 });
    await sleep(200);
    await closeTab(tab);
  }
  await tab.waitFor({ state: 'detached', timeout: 15000 });
  await sleep(200);
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+W'); // the file
  await sleep(300);
}

await driveTargets(targets, runs, async (page, target, run) => {
  for (const [k, how] of ['stop', 'close'].entries()) {
    await once(page, target, env.DRIVE_FILE_PATTERN.replace('{i}', String(2 * run + k)), how, run);
  }
});
