/**
 * What an edit at the ghost text's position means: VS Code 1.100 has no stable partial-accept
 * callback, so a word or line accept is seen as the document change that inserts the start of
 * the ghost text. Pure (no `vscode`), so it is unit tested.
 */

/** What is on screen: the ghost `text`, after `before` UTF-16 code units of the item typed through. */
export interface GhostText {
  text: string;
  before: number;
  /** `text` is the rest of the finished item, so a whole accept is the item's command */
  complete: boolean;
}

/**
 * `'whole'` when `inserted` is all of a complete ghost text (the item's command reports it), the
 * `acceptedLength` to report (UTF-16 code units from the start of the item, as Copilot's language
 * server counts) when it is the ghost text's start, or undefined when it is typing, not accepting.
 */
export function acceptedByEdit(ghost: GhostText, inserted: string): number | 'whole' | undefined {
  // One typed character is typing through, not accepting; a word or a line comes in one edit.
  // Characters, not UTF-16 units: one emoji is one character typed.
  if (Array.from(inserted).length < 2 || !ghost.text.startsWith(inserted)) {
    return undefined;
  }
  if (inserted === ghost.text && ghost.complete) {
    return 'whole';
  }
  return ghost.before + inserted.length;
}
