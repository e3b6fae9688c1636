// What the benchmark drives (drive.mjs, explain.mjs) share: headless Chromium with one page per
// code-server, runs in rotating order, the command palette, one JSON line per observation.
import { createRequire } from 'node:module';

const env = process.env;
const require = createRequire(import.meta.url);
const { chromium } = require(env.INKSTREAM_PLAYWRIGHT_CORE);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const emit = (event, data = {}) => process.stdout.write(`${JSON.stringify({ event, t: Date.now(), ...data })}\n`);

/** Runs `text` from the command palette ('>') or quick open (''); returns when Enter was pressed. */
export async function palette(page, prefix, text) {
  await page.keyboard.press(prefix === '>' ? 'Control+Shift+P' : 'Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15000 });
  await input.fill(`${prefix}${text}`);
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 15000 });
  await sleep(150);
  const pressedAt = Date.now();
  await page.keyboard.press('Enter');
  return pressedAt;
}

/**
 * Opens one page per target ({url, workspace}), then for each run 0..runs calls
 * `once(page, target, run)` for every target, in rotating order (AB, BA, ...). A failure becomes an
 * 'error' line, with a screenshot of each page in TMPDIR.
 */
export async function driveTargets(targets, runs, once) {
  const browser = await chromium.launch({
    executablePath: env.INKSTREAM_CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-renderer-backgrounding', '--disable-background-timer-throttling',
      '--disable-backgrounding-occluded-windows'],
  });
  try {
    const pages = [];
    for (const target of targets) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
      await page.goto(`${target.url}/?folder=${encodeURIComponent(target.workspace)}`);
      await page.waitForSelector('.monaco-workbench', { timeout: 120000 });
      await sleep(3000);
      pages.push(page);
    }
    for (let run = 0; run <= runs; run++) {
      for (const index of targets.map((_, i) => (i + run) % targets.length)) {
        await pages[index].bringToFront();
        await once(pages[index], targets[index], run);
      }
    }
  } catch (error) {
    for (const [i, page] of (browser.contexts().flatMap((c) => c.pages())).entries()) {
      await page.screenshot({ path: `${env.TMPDIR ?? '/tmp'}/drive-error-${i}.png` }).catch(() => {});
    }
    emit('error', { message: String(error?.stack ?? error) });
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}
