/** Markdown → HTML for the Explain panel. Raw HTML in the model's text is escaped, never rendered. Pure. */
import MarkdownIt from 'markdown-it';

const md = new MarkdownIt({ html: false, linkify: true, breaks: false, typographer: false });

// Only http(s) and mailto links (markdown-it already refuses javascript:, vbscript:, file: and most data:).
const defaultValidate = md.validateLink.bind(md);
md.validateLink = (url: string): boolean => defaultValidate(url) && /^(https?:|mailto:|#)/i.test(url.trim());

export function renderMarkdown(text: string): string {
  return md.render(text);
}

/**
 * The HTML of each top-level block (paragraph, list, fence, heading…) in order; joined, they are
 * `renderMarkdown(text)`. The whole text is parsed each time (a later line can still change an
 * earlier block: a setext underline, a blank line that loosens a list, a reference definition), but
 * the panel only replaces the blocks that changed, so a growing explanation costs the page one
 * block per update instead of the whole document.
 */
export function renderBlocks(text: string): string[] {
  const env = {};
  const tokens = md.parse(text, env);
  const blocks: string[] = [];
  let start = 0;
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    depth += tokens[i].nesting;
    if (depth === 0) {
      blocks.push(md.renderer.render(tokens.slice(start, i + 1), md.options, env));
      start = i + 1;
    }
  }
  return blocks;
}

/** What the page must do to go from the blocks it shows to the next ones: keep the first `keep`, drop the rest, append `append`. */
export interface BlockPatch {
  keep: number;
  append: string[];
}

export function patchBlocks(shown: readonly string[], next: readonly string[]): BlockPatch {
  let keep = 0;
  while (keep < shown.length && keep < next.length && shown[keep] === next[keep]) {
    keep++;
  }
  return { keep, append: next.slice(keep) };
}

/** One update for the page, numbered: `after` is the update it builds on (null: from scratch). */
export interface PageUpdate extends BlockPatch {
  update: number;
  after: number | null;
}

/** The update that takes the page from the blocks it shows (after update `sent`) to `next`. */
export function planUpdate(shown: readonly string[], sent: number, next: readonly string[]): PageUpdate {
  const { keep, append } = patchBlocks(shown, next);
  return { keep, append, update: sent + 1, after: keep === 0 ? null : sent };
}

/**
 * What the page does with an update, given the last one it applied (null: none yet, or it waits
 * for everything): apply it; or, when it builds on an update the page did not apply, skip it and
 * ask once for everything ('resend'). Runs in the page too (panel.ts), so it stays self-contained.
 */
export function pageStep(applied: number | null, after: number | null): 'apply' | 'resend' | 'skip' {
  if (after === null || after === applied) {
    return 'apply';
  }
  return applied === null ? 'skip' : 'resend';
}
