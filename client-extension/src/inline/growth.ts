/**
 * When to re-show a growing suggestion (pure; the provider runs the timer and the commands).
 *
 * VS Code 1.100's stable API can only show a longer suggestion by hiding the current one and asking
 * the provider again (`editor.action.inlineSuggest.hide` + `…trigger`): a re-trigger at the same
 * position and document version is "satisfied" by the earlier request and never reaches the
 * provider (`UpdateRequest.satisfies` in VS Code's inlineCompletionsSource.ts; the proposed
 * `onDidChange` event takes the same path). The hide is painted before the new answer arrives, so
 * every re-show blanks the ghost text for one to a few frames. Measured in real VS Code 1.100 (see
 * client-extension/README.md): re-showing every 120 ms made it blink about 8 times a second. Users
 * see that as flicker, so by default the suggestion grows a line at a time: fewer, larger steps,
 * each with one short blink. Typing through the suggestion re-asks without a blink (the document
 * version changes), so growth while the user types is free.
 */

/** `inkstream.ghostTextGrowth`. */
export type GrowthMode = 'lines' | 'live' | 'final';

export const GROWTH_MODES: readonly GrowthMode[] = ['lines', 'live', 'final'];

/** "live": at most one re-show per this many ms. */
export const LIVE_MS = 120;
/** "lines": at most one re-show per this many ms, however fast lines arrive (≤ ~3 blinks/s). */
export const LINE_GAP_MS = 300;
/** "lines": a line still being written is re-shown after this long without a newer re-show. */
export const STALE_MS = 1000;

export interface GrowthState {
  /** Everything streamed so far (relative to the anchor). */
  text: string;
  /** The suggestion VS Code shows now (relative to the anchor, including what was typed). */
  shown: string;
  /** When VS Code last got an answer from the provider (a re-show, or a re-ask after typing). */
  shownAt: number;
  /** The stream is still running. */
  running: boolean;
}

export function parseGrowthMode(value: unknown): GrowthMode {
  return typeof value === 'string' && (GROWTH_MODES as readonly string[]).includes(value) ? (value as GrowthMode) : 'lines';
}

/**
 * The time at which the suggestion should be re-shown, or undefined when nothing new is worth a
 * blink yet (a later snapshot or the end of the stream asks again).
 */
export function nextRefreshAt(mode: GrowthMode, state: GrowthState): number | undefined {
  const { text, shown, shownAt, running } = state;
  const revised = !text.startsWith(shown); // the server's final text may differ from its snapshots
  if (!revised && !/\S/.test(text.slice(shown.length))) {
    return undefined; // nothing new, or only whitespace (not worth a blink)
  }
  if (mode === 'live') {
    return shownAt + LIVE_MS;
  }
  if (!running) {
    return shownAt + (mode === 'lines' ? LINE_GAP_MS : 0); // the final text, whatever the mode
  }
  if (mode === 'final') {
    return undefined;
  }
  // "lines": once a line that was partly shown (or not at all) is complete, or a long line went stale.
  const completed = revised || text.lastIndexOf('\n') >= shown.length;
  return shownAt + (completed ? LINE_GAP_MS : STALE_MS);
}
