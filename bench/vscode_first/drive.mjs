// Drives two code-servers side by side for bench/vscode_first.py (one with inkstream, one with the
// baseline extension): in each, per run, opens a fresh file, triggers an inline suggestion at the
// end of its first line and records, from per-frame samples of the page, the first frame that
// painted ghost text. Runs alternate between the two (ABBA...). One JSON line per observation.
//
// Env: INKSTREAM_PLAYWRIGHT_CORE, INKSTREAM_CHROMIUM, DRIVE_TARGETS (JSON: [{name, url, workspace}]),
// DRIVE_RUNS, DRIVE_FILE_PATTERN (e.g. "run{i}.py"), DRIVE_RESTART (ms: restart each language server, wait
// this long, then trigger: every run is the first after a server start).
import { driveTargets, emit, palette, sleep } from './harness.mjs';

const env = process.env;
const targets = JSON.parse(env.DRIVE_TARGETS);
const runs = Number(env.DRIVE_RUNS ?? 10);

/** In the page: remembers the first frame whose painted DOM has ghost text (rAF-wrapped, as in test/e2e/drive.mjs). */
function startSampler() {
  const w = window;
  const native = w.__inkNativeRaf ?? (w.__inkNativeRaf = w.requestAnimationFrame.bind(w));
  const state = { first: null, running: true };
  const ghost = () => {
    const editor = document.querySelector('.editor-group-container.active .monaco-editor');
    const parts = editor ? [...editor.querySelectorAll('.ghost-text-decoration, .ghost-text-decoration-preview')] : [];
    return parts.map((e) => e.textContent ?? '').join('').replace(/\u00a0/g, ' ');
  };
  const sample = (ts) => {
    if (state.first === null && ghost().trim() !== '') {
      state.first = { t: w.performance.timeOrigin + ts, text: ghost() };
    }
  };
  w.requestAnimationFrame = (callback) =>
    native((ts) => {
      try {
        callback(ts);
      } finally {
        if (state.running) {
          w.queueMicrotask(() => sample(ts));
        }
      }
    });
  const tick = (ts) => {
    if (state.running) {
      sample(ts);
      native(tick);
    }
  };
  native(tick);
  w.__inkSampler = state;
}

function stopSampler() {
  const state = window.__inkSampler;
  state.running = false;
  window.requestAnimationFrame = window.__inkNativeRaf;
  return state.first;
}

function readGhost() {
  const editor = document.querySelector('.editor-group-container.active .monaco-editor');
  const parts = editor ? [...editor.querySelectorAll('.ghost-text-decoration, .ghost-text-decoration-preview')] : [];
  return parts.map((e) => e.textContent ?? '').join('').replace(/\u00a0/g, ' ');
}

async function once(page, target, run) {
  const file = env.DRIVE_FILE_PATTERN.replace('{i}', String(run));
  if (env.DRIVE_RESTART && run > 0) {
    // Each run is the first suggestion after the language server started (run 0 already is).
    await palette(page, '>', target.restart);
    await sleep(Number(env.DRIVE_RESTART));
  }
  await palette(page, '', `${target.workspace}/${file}`);
  await page.waitForFunction((f) => document.title.startsWith(f), file, { timeout: 15000 });
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('End');
  await sleep(300);
  await page.evaluate(startSampler);
  const triggeredAt = await palette(page, '>', 'Trigger Inline Suggestion');
  let last = '';
  let lastChange = Date.now();
  while (Date.now() - triggeredAt < 20000) {
    const text = await page.evaluate(readGhost);
    if (text !== last) {
      last = text;
      lastChange = Date.now();
    }
    if (text.trim() !== '' && Date.now() - lastChange > 800) {
      break;
    }
    await sleep(25);
  }
  const first = await page.evaluate(stopSampler);
  emit('run', { target: target.name, run, file, triggeredAt, firstGhostAt: first?.t ?? null, firstText: first?.text ?? null, text: last });
  await page.keyboard.press('Escape');
  await sleep(200);
  await page.keyboard.press('Control+W');
  await sleep(200);
}

await driveTargets(targets, runs, once);
