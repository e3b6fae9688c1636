// Drives a running code-server (real VS Code 1.100 in headless Chromium, through playwright-core) and
// prints one JSON observation per line on stdout. tests/vscode/test_vscode_e2e.py starts the scripted
// upstream and code-server, runs this script, and asserts on what it printed.
//
// Configuration (env):
//   INKSTREAM_PLAYWRIGHT_CORE  path of the playwright-core package
//   INKSTREAM_CHROMIUM         Chromium binary
//   DRIVE_URL                  code-server URL, e.g. http://127.0.0.1:8765
//   DRIVE_WORKSPACE            workspace folder opened in VS Code
//   DRIVE_FILE                 file (relative to the workspace) whose end gets the ghost text
//   DRIVE_ARTIFACTS            directory for screenshots
//   DRIVE_TYPE_THROUGH         the start of the suggestion, typed while it streams (type-through)
//   DRIVE_EXPECT_FINAL         text the accepted suggestion must contain
//   DRIVE_TIMEOUT_MS           overall deadline (default 150000)
//   DRIVE_IDLE_MS              the growing suggestion is complete once unchanged this long (default 1500)
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const env = process.env;
const require = createRequire(import.meta.url);
const { chromium } = require(env.INKSTREAM_PLAYWRIGHT_CORE ?? 'playwright-core');

const url = env.DRIVE_URL ?? 'http://127.0.0.1:8765';
const workspace = env.DRIVE_WORKSPACE;
const file = env.DRIVE_FILE ?? 'demo.py';
const artifacts = env.DRIVE_ARTIFACTS ?? 'artifacts/vscode';
const typeThrough = env.DRIVE_TYPE_THROUGH ?? '';
const expectFinal = env.DRIVE_EXPECT_FINAL ?? '';
const deadline = Date.now() + Number(env.DRIVE_TIMEOUT_MS ?? 150000);
const idleMs = Number(env.DRIVE_IDLE_MS ?? 1500);
mkdirSync(artifacts, { recursive: true });

const t0 = Date.now();
function emit(event, data = {}) {
  process.stdout.write(`${JSON.stringify({ event, t: Date.now(), dt: Date.now() - t0, ...data })}\n`);
}
function remaining() {
  return Math.max(1000, deadline - Date.now());
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function shot(page, name) {
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file });
  emit('screenshot', { name, file });
}

/** Ghost text as VS Code renders it: the first line's decoration plus the preview view-zone lines. */
function readGhost() {
  const editor = document.querySelector('.editor-group-container.active .monaco-editor') ?? document.querySelector('.monaco-editor');
  if (!editor) {
    return '';
  }
  const first = [...editor.querySelectorAll('.ghost-text-decoration, .ghost-text-decoration-preview')].map((e) => e.textContent ?? '').join('');
  const rest = [...editor.querySelectorAll('.suggest-preview-text .view-line, .ghost-text .view-line')].map((e) => e.textContent ?? '');
  const text = [first, ...rest].join('\n').replace(/\u00a0/g, ' ');
  return text.trim() === '' ? '' : text;
}

/**
 * Records the ghost text as painted in every frame (runs in the page). Frames in which it blinks
 * out or shrinks are seen even when they last one frame.
 *
 * What a frame paints is the DOM after the last requestAnimationFrame callback of that frame (VS
 * Code renders the editor in one), so every rAF callback is wrapped to re-read the DOM in a
 * microtask right after it, and the last reading of a frame wins. A view zone that VS Code has
 * added but not yet laid out is display:none and does not count. `length` counts from the start
 * of the anchor line (the real text before the ghost text plus the ghost text), so type-through,
 * which moves characters from the ghost text into the document, keeps it constant.
 */
function startFrameSampler() {
  const w = window;
  const native = w.requestAnimationFrame.bind(w);
  const records = [];
  let frames = 0;
  let frameTs = -1;
  let pending = null;
  let lastKey = null;
  const read = () => {
    const editor = document.querySelector('.editor-group-container.active .monaco-editor');
    const decorations = editor ? [...editor.querySelectorAll('.ghost-text-decoration, .ghost-text-decoration-preview')] : [];
    const first = decorations.map((e) => e.textContent ?? '').join('');
    const zone = editor ? [...editor.querySelectorAll('.suggest-preview-text')].filter((e) => e.checkVisibility()) : [];
    const rest = zone.flatMap((z) => [...z.querySelectorAll('.view-line')].map((e) => e.textContent ?? ''));
    const line = decorations[0]?.closest('.view-line');
    const base = line ? (line.textContent ?? '').length - first.length : 0;
    const ghost = [first, ...rest].join('\n').replace(/\u00a0/g, ' ');
    const shown = ghost.trim() !== '';
    return { length: shown ? base + ghost.length : 0, lines: shown ? 1 + rest.length : 0, text: shown ? ghost : '' };
  };
  const commit = () => {
    if (pending) {
      const key = `${pending.length}|${pending.text}`;
      if (key !== lastKey) {
        lastKey = key;
        records.push(pending);
      }
      pending = null;
    }
  };
  const sample = (ts) => {
    if (ts !== frameTs) {
      commit();
      frameTs = ts;
      frames += 1;
    }
    pending = { frame: frames, t: w.performance.timeOrigin + ts, ...read() };
  };
  let running = true;
  w.requestAnimationFrame = (callback) =>
    native((ts) => {
      try {
        callback(ts);
      } finally {
        if (running) {
          w.queueMicrotask(() => sample(ts));
        }
      }
    });
  const tick = (ts) => {
    if (running) {
      sample(ts);
      native(tick);
    }
  };
  native(tick);
  w.__inkStopSampler = () => {
    running = false;
    w.requestAnimationFrame = native;
    commit();
    return { frames: records, total: frames };
  };
}

/** Stops the sampler; returns its records (one per change, with the frame it was first painted in) and the frame count. */
function stopFrameSampler() {
  return window.__inkStopSampler();
}

/** Polls the ghost text every `every` ms until `until()` is true; records each change. */
async function watchGhost(page, { until, every = 25, label }) {
  const seen = [];
  let last = null;
  while (Date.now() < deadline) {
    const text = await page.evaluate(readGhost);
    if (text !== last) {
      last = text;
      const at = Date.now();
      seen.push({ t: at, text });
      emit('ghost', { label, text, length: text.length });
    }
    if (await until(text, seen)) {
      break;
    }
    await sleep(every);
  }
  return seen;
}

/** Runs a command from the palette; returns when Enter was pressed (the command runs from then). */
async function runCommand(page, title) {
  await page.keyboard.press('Control+Shift+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15000 });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 15000 });
  await sleep(150);
  const pressedAt = Date.now();
  await page.keyboard.press('Enter');
  return pressedAt;
}

async function statusText(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('.statusbar-item')]
      .map((e) => e.textContent ?? '')
      .filter((t) => /inkstream|tok\/s/.test(t))
      .join(' | '),
  );
}

async function editorText(page) {
  return page.evaluate(() => {
    const editor = document.querySelector('.editor-group-container.active .monaco-editor');
    const lines = [...(editor?.querySelectorAll('.view-lines .view-line') ?? [])];
    lines.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
    return lines.map((l) => (l.textContent ?? '').replace(/\u00a0/g, ' ')).join('\n');
  });
}

async function inlineScenario(page) {
  const lines = page.locator('.editor-group-container .monaco-editor .view-lines').first();
  await lines.click();
  await page.keyboard.press('Control+End');
  await page.evaluate(startFrameSampler);
  emit('trigger');
  // editor.action.inlineSuggest.trigger has no default key binding in VS Code 1.100: use its title.
  const triggeredAt = await runCommand(page, 'Trigger Inline Suggestion');

  // Watch the ghost text grow. Once it shows the start of the first line, type that start
  // (type-through: the running stream must go on, answered from the cache), then keep watching
  // until it has not changed for idleMs (the stream has ended).
  let shots = 0;
  let lastChange = Date.now();
  let lastText = '';
  let typedAt = null;
  const toastsSeen = new Set();
  const growth = await watchGhost(page, {
    label: 'inline',
    until: async (text, seen) => {
      for (const message of await toasts(page)) {
        toastsSeen.add(message);
      }
      if (text !== lastText) {
        lastText = text;
        lastChange = Date.now();
      }
      const shown = seen.filter((x) => x.text).length;
      if (shown === 1 && shots === 0) {
        shots = 1;
        await shot(page, 'ghost-1-first');
      }
      if (typeThrough && typedAt === null && text.startsWith(typeThrough) && text.length > typeThrough.length + 2) {
        typedAt = Date.now();
        emit('typing', { text: typeThrough });
        await page.keyboard.type(typeThrough, { delay: 50 });
        emit('typed', { text: typeThrough });
        lastChange = Date.now();
        return false;
      }
      if (shown >= 6 && shots === 1) {
        shots = 2;
        await shot(page, 'ghost-2-growing');
      }
      return text !== '' && Date.now() - lastChange > idleMs;
    },
  });
  const sampled = await page.evaluate(stopFrameSampler);
  emit('frames', { label: 'inline', total: sampled.total, frames: sampled.frames });
  await shot(page, 'ghost-3-complete');
  emit('inline-summary', {
    triggeredAt,
    firstGhostAt: growth.find((x) => x.text)?.t ?? null,
    steps: growth.filter((x) => x.text).length,
    typedAt,
    finalGhost: lastText,
    toasts: [...toastsSeen],
  });

  // Tab accepts.
  emit('tab');
  await page.keyboard.press('Tab');
  await sleep(500);
  await page.keyboard.press('Escape'); // hide whatever the next automatic suggestion would show
  const accepted = await editorText(page);
  emit('accepted', { text: accepted, ok: expectFinal ? accepted.includes(expectFinal) : null });
  await shot(page, 'ghost-5-accepted');

}

/**
 * The first suggestion after start-up: at the end of the file's first line, as soon as the file is
 * open. Records when the trigger ran and the first frame that painted ghost text, then dismisses it
 * (Escape) once it has stopped changing.
 */
async function startupScenario(page) {
  const lines = page.locator('.editor-group-container .monaco-editor .view-lines').first();
  await lines.click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('End');
  await page.evaluate(startFrameSampler);
  const triggeredAt = await runCommand(page, 'Trigger Inline Suggestion');
  let last = '';
  let lastChange = Date.now();
  while (Date.now() < deadline) {
    const text = await page.evaluate(readGhost);
    if (text !== last) {
      last = text;
      lastChange = Date.now();
    }
    if ((text !== '' && Date.now() - lastChange > 1000) || Date.now() - triggeredAt > 20000) {
      break;
    }
    await sleep(25);
  }
  const sampled = await page.evaluate(stopFrameSampler);
  const first = sampled.frames.find((f) => f.length > 0);
  emit('startup', { triggeredAt, firstGhostAt: first?.t ?? null, text: last });
  await shot(page, 'startup-ghost');
  await page.keyboard.press('Escape');
  await sleep(300);
}

/** Notification toasts on screen now (their messages). */
async function toasts(page) {
  return page.locator('.notifications-toasts .notification-list-item-message').allTextContents();
}

/**
 * Explain the whole file, watch the panel stream, then stop it one of two ways:
 * 'stop' (the panel's Stop button) or 'close' (close the panel). Records every notification toast
 * seen while it streams (there should be none: the panel has Stop, the status bar the pace).
 */
async function explainScenario(page, how) {
  const lines = page.locator('.editor-group-container .monaco-editor .view-lines').first();
  await lines.click();
  await page.keyboard.press('Control+A');
  await runCommand(page, 'inkstream: Explain Selection');
  const frame = page.frameLocator('iframe.webview.ready').first().frameLocator('#active-frame');
  const content = frame.locator('#content');
  await content.waitFor({ state: 'attached', timeout: 30000 });
  const seen = [];
  const toastsSeen = new Set();
  const paces = new Set();
  let shotTaken = how !== 'stop';
  while (Date.now() < deadline) {
    for (const message of await toasts(page)) {
      toastsSeen.add(message);
    }
    const pace = await statusText(page);
    if (/tok\/s/.test(pace)) {
      paces.add(pace);
    }
    const text = (await content.textContent({ timeout: 5000 })) ?? '';
    if (!seen.length || seen[seen.length - 1].length !== text.length) {
      seen.push({ t: Date.now(), length: text.length });
      emit('explain', { how, length: text.length, text: text.slice(0, 120) });
    }
    if (text.length > 60 && !shotTaken) {
      shotTaken = true;
      await sleep(400);
      await shot(page, 'explain-1-streaming');
    }
    // DRIVE_EXPLAIN_SETTLE_MS: stop only once the panel has not changed for that long (a stalled
    // upstream), to compare Stop's latency with and without the panel redrawing.
    const settle = Number(env.DRIVE_EXPLAIN_SETTLE_MS ?? 0);
    if (seen.filter((x) => x.length > 0).length >= 4 && text.length > 80 && Date.now() - seen[seen.length - 1].t >= settle) {
      break;
    }
    const state = await frame.locator('body').getAttribute('class');
    if (state !== 'streaming') {
      throw new Error(`the explanation ended before it was stopped: ${state}: ${await frame.locator('#note').textContent()}`);
    }
    await sleep(40);
  }
  emit('explain-streaming', { how, toasts: [...toastsSeen], status: [...paces] });
  if (how === 'stop') {
    // When the webview's own click handler runs: splits the harness's click latency from the rest.
    await frame.locator('#stop').evaluate((button) => {
      button.addEventListener('click', () => (window.__inkStopClickedAt = Date.now()), { capture: true, once: true });
    });
  }
  const stopAt = Date.now();
  let clickedAt = null;
  if (how === 'stop') {
    await frame.locator('#stop').click();
    clickedAt = await frame.locator('#stop').evaluate(() => window.__inkStopClickedAt ?? null);
  } else {
    const tab = page.locator('.tab', { hasText: 'inkstream: Explain' });
    await tab.hover();
    await tab.locator('.tab-actions .action-label').first().click();
  }
  emit('explain-stop', { how, t: stopAt, clickedAt });
  if (how === 'close') {
    await page.locator('.tab', { hasText: 'inkstream: Explain' }).waitFor({ state: 'detached', timeout: 15000 });
    emit('explain-ended', { how, state: 'closed' });
    return;
  }
  await frame.locator('body.stopped, body.done, body.error').waitFor({ timeout: 15000 });
  const note = await frame.locator('#note').textContent();
  const bodyClass = await frame.locator('body').getAttribute('class');
  emit('explain-ended', { how, state: bodyClass, note });
  if (how === 'stop') {
    await sleep(300);
    await shot(page, 'explain-2-stopped');
  }
}

/** Click the status bar item: a quick pick with the endpoint, model, API style and last error. */
async function statusScenario(page) {
  await page.locator('.statusbar-item', { hasText: 'inkstream' }).first().locator('a, .statusbar-item-label').first().click();
  const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  await rows.first().waitFor({ timeout: 15000 });
  await sleep(300);
  const items = await rows.evaluateAll((els) => els.map((e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim()));
  emit('status-pick', { items });
  await shot(page, 'status-pick');
  await page.keyboard.press('Escape');
}

/** The status bar tooltip has today's usage; inkstream: Show Usage opens the chart per day. */
async function usageScenario(page) {
  let tooltip = '';
  const until = Date.now() + 15000;
  while (Date.now() < until) {
    tooltip = await page.evaluate(
      () => [...document.querySelectorAll('.statusbar-item')].find((e) => /inkstream/.test(e.textContent ?? ''))?.getAttribute('aria-label') ?? '',
    );
    if (/Today:.*accepted/.test(tooltip) && !/ 0\/\d+ accepted/.test(tooltip)) {
      break;
    }
    await sleep(250);
  }
  emit('usage-tooltip', { tooltip });
  await runCommand(page, 'inkstream: Show Usage');
  // Explain panels may still be open: find the webview frame that holds the usage page.
  let frame;
  const until2 = Date.now() + 30000;
  while (!frame && Date.now() < until2) {
    for (const f of page.frames()) {
      if ((await f.locator('h1', { hasText: 'inkstream usage' }).count().catch(() => 0)) > 0) {
        frame = f;
        break;
      }
    }
    await sleep(250);
  }
  if (!frame) {
    throw new Error('the usage view did not open');
  }
  await sleep(500);
  const cards = await frame.locator('.card').allTextContents();
  const bars = await frame.locator('rect.bar').count();
  emit('usage-view', { title: await frame.locator('h1').textContent(), cards, bars });
  await shot(page, 'usage-view');
}

/** The server is not installed: exactly one actionable message, with the install command. */
async function missingScenario(page) {
  const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: 'not installed' });
  await toast.first().waitFor({ timeout: 30000 });
  await sleep(2000); // time for any further (unwanted) messages to show up
  const messages = await page.locator('.notifications-toasts .notification-list-item-message').allTextContents();
  const buttons = await toast.first().locator('.monaco-button').allTextContents();
  emit('missing', { messages, buttons, status: await statusText(page) });
  await shot(page, 'missing-server');
}

/**
 * What the next-edit decorations draw in the active editor (runs in the page). Extension
 * decorations are CSS classes: their `after`/`before` content and colours are in style sheets, so
 * the rules that belong to inkstream's next edits are found there, then the elements that carry
 * them. Lines are 1-based, read from the line-number gutter at the same height.
 */
function readNextEdit() {
  const editor = document.querySelector('.editor-group-container.active .monaco-editor');
  if (!editor) {
    return { hints: [], lines: [], deleted: [], pictures: [] };
  }
  // VS Code writes a decoration's theme colour into its CSS rule as the resolved value: compare
  // it with the value of the colour inkstream contributes (normalised by the browser).
  const probe = document.createElement('div');
  document.body.appendChild(probe);
  const normalise = (color) => {
    probe.style.backgroundColor = '';
    probe.style.backgroundColor = color;
    return window.getComputedStyle(probe).backgroundColor;
  };
  const workbench = document.querySelector('.monaco-workbench') ?? document.body;
  const deletedVar = window.getComputedStyle(workbench).getPropertyValue('--vscode-inkstream-nextEditDeletedBackground').trim();
  const deletedColor = deletedVar ? normalise(deletedVar) : null;
  const rules = new Map(); // class → {kind, content}
  for (const sheet of document.styleSheets) {
    let list;
    try {
      list = sheet.cssRules;
    } catch {
      continue;
    }
    for (const rule of list) {
      const selector = rule.selectorText ?? '';
      const match = /\.(ced-[\w-]+)/.exec(selector);
      if (!match) {
        continue;
      }
      const content = rule.style?.content ?? '';
      const css = rule.cssText ?? '';
      const background = rule.style?.backgroundColor ?? '';
      if (css.includes('inkstream-nextEditDeletedBackground') || (deletedColor && background && normalise(background) === deletedColor)) {
        rules.set(match[1], { kind: 'deleted' });
      } else if (/Tab to jump/.test(content)) {
        rules.set(match[1], { kind: 'hint', content: JSON.parse(content) });
      } else if (/^"→ /.test(content)) {
        rules.set(match[1], { kind: 'line', content: JSON.parse(content).slice(2) });
      } else if (content.includes('data:image/svg+xml;base64,')) {
        const b64 = /base64,([A-Za-z0-9+/=]+)/.exec(content)?.[1] ?? '';
        const svg = window.atob(b64);
        const rows = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
          m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&'),
        );
        rules.set(match[1], { kind: 'picture', content: rows });
      }
    }
  }
  const gutter = [...editor.querySelectorAll('.margin-view-overlays > div')].map((d) => ({ top: d.style.top, n: Number(d.textContent?.trim()) }));
  const lineAt = (el) => {
    const holder = el.closest('.view-line') ?? el.closest('.view-overlays > div') ?? el;
    const top = holder.style.top;
    return gutter.find((g) => g.top === top)?.n ?? null;
  };
  const out = { hints: [], lines: [], deleted: [], pictures: [] };
  for (const [cls, rule] of rules) {
    for (const el of editor.querySelectorAll(`.${cls}`)) {
      const rect = el.getBoundingClientRect();
      const item = { line: lineAt(el), x: Math.round(rect.left), y: Math.round(rect.top), cls };
      if (rule.kind === 'deleted') {
        out.deleted.push({ ...item, width: Math.round(rect.width) });
      } else if (rule.kind === 'hint') {
        out.hints.push({ ...item, text: rule.content });
      } else if (rule.kind === 'line') {
        out.lines.push({ ...item, text: rule.content });
      } else {
        out.pictures.push({ ...item, lines: rule.content });
      }
    }
  }
  probe.remove();
  for (const list of Object.values(out)) {
    list.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || a.x - b.x);
  }
  return out;
}

/**
 * Watches, in every frame (runs in the page), the elements drawn for the next edits already shown
 * (`watched`: their classes and lines): counts the frames in which one is missing or has moved.
 */
function startNesSampler(watched) {
  const w = window;
  const native = w.requestAnimationFrame.bind(w);
  const state = { frames: 0, missing: 0, moved: 0, first: null };
  const editor = document.querySelector('.editor-group-container.active .monaco-editor');
  const place = (item) => {
    const els = [...(editor?.querySelectorAll(`.${item.cls}`) ?? [])];
    return els.map((el) => el.getBoundingClientRect()).map((r) => `${Math.round(r.left)},${Math.round(r.top)}`);
  };
  const initial = watched.map((item) => `${item.x},${item.y}`);
  let running = true;
  const tick = () => {
    if (!running) {
      return;
    }
    state.frames += 1;
    watched.forEach((item, i) => {
      const places = place(item);
      if (places.length === 0) {
        state.missing += 1;
        state.first ??= { frame: state.frames, what: 'missing', item };
      } else if (!places.includes(initial[i])) {
        state.moved += 1;
        state.first ??= { frame: state.frames, what: 'moved', item, places };
      }
    });
    native(tick);
  };
  native(tick);
  w.__inkStopNesSampler = () => {
    running = false;
    return state;
  };
}

function stopNesSampler() {
  return window.__inkStopNesSampler();
}

function cursorLine() {
  const editor = document.querySelector('.editor-group-container.active .monaco-editor');
  const cursor = editor?.querySelector('.cursors-layer .cursor');
  const status = [...document.querySelectorAll('.statusbar-item')].map((e) => e.textContent ?? '').find((t) => /Ln \d+, Col \d+/.test(t));
  const match = /Ln (\d+), Col (\d+)/.exec(status ?? '');
  return match ? { line: Number(match[1]), column: Number(match[2]), visible: Boolean(cursor) } : null;
}

/**
 * Next edits (env DRIVE_NES, JSON): go to `line`:`column`, select `length` characters and type
 * `type` (a rename at one place); record every change of what the next-edit decorations (and the
 * ghost text) draw until they have been still for `idleMs` (screenshots: `shot` at the first
 * drawing, `endShot` then; `sampleFrames`: watch the first drawing in every frame); then `then`:
 * 'accept' (Tab until nothing is left, then save), 'accept-ghost' (one Tab, for an insertion at
 * the cursor shown as ghost text `ghost`, then save), 'escape', or 'elsewhere' (type `elsewhere`
 * at the end of the file).
 */
async function nextEditScenario(page, spec) {
  const lines = page.locator('.editor-group-container .monaco-editor .view-lines').first();
  await lines.click();
  await page.keyboard.press('Control+G');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 15000 });
  await page.keyboard.type(`${spec.line}:${spec.column}`);
  await page.keyboard.press('Enter');
  await sleep(200);
  for (let i = 0; i < spec.length; i++) {
    await page.keyboard.press('Shift+ArrowRight');
  }
  emit('nes-typing', { text: spec.type });
  await page.keyboard.type(spec.type, { delay: 40 });
  emit('nes-typed', { cursor: await page.evaluate(cursorLine) });
  const idleMs = spec.idleMs ?? 1500;
  let last = '';
  let lastChange = Date.now();
  let shotTaken = false;
  let sampling = null;
  const until = Date.now() + (spec.waitMs ?? 20000);
  while (Date.now() < until) {
    const drawn = { ...(await page.evaluate(readNextEdit)), ghost: await page.evaluate(readGhost) };
    const key = JSON.stringify(drawn);
    if (key !== last) {
      last = key;
      lastChange = Date.now();
      emit('nes', { drawn });
    }
    const any = drawn.hints.length + drawn.lines.length + drawn.deleted.length + drawn.pictures.length > 0 || (spec.ghost !== undefined && drawn.ghost === spec.ghost);
    if (any && spec.sampleFrames && !sampling) {
      // From the first drawing on, every frame: does what is drawn stay drawn, in place?
      sampling = [...drawn.lines, ...drawn.deleted, ...drawn.pictures];
      await page.evaluate(startNesSampler, sampling);
      emit('nes-sampling', { watched: sampling });
    }
    if (any && !shotTaken && spec.shot) {
      shotTaken = true;
      await sleep(300);
      await shot(page, spec.shot);
    }
    if (any && Date.now() - lastChange > idleMs) {
      break;
    }
    await sleep(25);
  }
  if (sampling) {
    emit('nes-frames', await page.evaluate(stopNesSampler));
  }
  emit('nes-shown', { drawn: JSON.parse(last || '{}') });
  if (spec.endShot) {
    await shot(page, spec.endShot);
  }
  if (spec.then === 'accept-ghost') {
    await page.keyboard.press('Tab');
    emit('nes-tab', { cursor: await page.evaluate(cursorLine), ghost: await page.evaluate(readGhost) });
    await page.keyboard.press('Control+S');
    await sleep(500);
  } else if (spec.then === 'accept') {
    for (let i = 0; i < (spec.maxTabs ?? 12); i++) {
      const before = await page.evaluate(readNextEdit);
      if (before.hints.length + before.lines.length + before.deleted.length + before.pictures.length === 0) {
        break;
      }
      await page.keyboard.press('Tab');
      await sleep(400);
      emit('nes-tab', { cursor: await page.evaluate(cursorLine), drawn: await page.evaluate(readNextEdit) });
    }
    await page.keyboard.press('Control+S');
    await sleep(500);
    emit('nes-saved', { text: await editorText(page) });
  } else if (spec.then === 'escape' || spec.then === 'elsewhere') {
    if (spec.then === 'escape') {
      await page.keyboard.press('Escape');
    } else {
      await page.keyboard.press('Control+End');
      await page.keyboard.type(spec.elsewhere ?? '#');
    }
    emit('nes-hide', { how: spec.then });
    // Until nothing is drawn (or 5 s: the test then fails on what is still drawn).
    let drawn = await page.evaluate(readNextEdit);
    const stopBy = Date.now() + 5000;
    while (drawn.hints.length + drawn.lines.length + drawn.deleted.length + drawn.pictures.length > 0 && Date.now() < stopBy) {
      await sleep(25);
      drawn = await page.evaluate(readNextEdit);
    }
    emit('nes-after', { drawn });
  }
}

let exitCode = 0;
let browser;
try {
  browser = await chromium.launch({
    executablePath: env.INKSTREAM_CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 640 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => emit('pageerror', { message: String(error).slice(0, 300) }));

  // 1. The workbench, and the extension's status bar item once the server is up.
  await page.goto(`${url}/?folder=${encodeURIComponent(workspace)}`, { timeout: remaining() });
  await page.waitForSelector('.monaco-workbench', { timeout: remaining() });
  emit('workbench');
  let status = '';
  while (Date.now() < deadline) {
    status = await statusText(page);
    if (status && !/starting/i.test(status) && /inkstream/.test(status)) {
      const tip = await page.evaluate(() => [...document.querySelectorAll('.statusbar-item')].find((e) => /inkstream/.test(e.textContent ?? ''))?.getAttribute('aria-label'));
      if (tip && !/starting/i.test(tip)) {
        break;
      }
    }
    await sleep(200);
  }
  emit('status', { text: status });

  // 2. Open the Python file, put the cursor at its end and ask for an inline suggestion.
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 15000 });
  await page.keyboard.type(file);
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 15000 });
  await sleep(200);
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.tab[aria-label*="${path.basename(file)}"]`, { timeout: 15000 });
  emit('file-open');
  // Order matters: the upstream answers its scripted replies in order, and after Tab VS Code asks
  // for the next suggestion, so the inline scenario comes after the explain ones. The start-up
  // suggestion comes first, right after the file opened; the usage view reads what all of them recorded.
  for (const step of (env.DRIVE_ORDER ?? 'startup,explain-stop,explain-close,inline,status,usage').split(',')) {
    if (step === 'startup') {
      await startupScenario(page);
    } else if (step.startsWith('explain-')) {
      await explainScenario(page, step.slice('explain-'.length));
    } else if (step === 'inline') {
      await inlineScenario(page);
    } else if (step === 'status') {
      await statusScenario(page);
    } else if (step === 'usage') {
      await usageScenario(page);
    } else if (step === 'missing') {
      await missingScenario(page);
    } else if (step === 'nextedit') {
      await nextEditScenario(page, JSON.parse(env.DRIVE_NES ?? '{}'));
    }
  }
  emit('status', { text: await statusText(page) });
  emit('done');
} catch (error) {
  exitCode = 1;
  emit('error', { message: String(error?.stack ?? error).slice(0, 2000) });
  try {
    const pages = browser?.contexts()[0]?.pages() ?? [];
    if (pages[0]) {
      await shot(pages[0], 'zz-failure');
    }
  } catch {
    // the screenshot is best effort
  }
} finally {
  await browser?.close();
}
process.exit(exitCode);
