import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cursorAtEdit, drawingOf, EditSet, parseEdits, rebase, shownParams, type NextEdit } from '../../src/nextEdit/edits';
import { displayLines, editorLineHeight, renderLines, svgDataUri, themeColors } from '../../src/nextEdit/svg';

const URI = 'file:///w/a.py';

function wire(id: string, sl: number, sc: number, el: number, ec: number, text: string, version = 3): unknown {
  return {
    range: { start: { line: sl, character: sc }, end: { line: el, character: ec } },
    text,
    textDocument: { uri: URI, version },
    command: { title: 'Accept', command: 'inkstream.didAccept', arguments: [id] },
  };
}

function edit(id: string, sl: number, sc: number, el: number, ec: number, text: string): NextEdit {
  return parseEdits({ edits: [wire(id, sl, sc, el, ec, text)] }, URI, 3)[0];
}

describe('parseEdits', () => {
  it('keeps edits for this document version, with their ids and commands', () => {
    const edits = parseEdits({ edits: [wire('a', 1, 2, 1, 5, 'total')] }, URI, 3);
    assert.equal(edits.length, 1);
    assert.equal(edits[0].id, 'a');
    assert.deepEqual(edits[0].command, { title: 'Accept', command: 'inkstream.didAccept', arguments: ['a'] });
  });

  it('drops edits of another version or document, and malformed ones', () => {
    const other = { ...(wire('b', 0, 0, 0, 1, 'x') as object), textDocument: { uri: 'file:///w/b.py', version: 3 } };
    const backwards = wire('c', 4, 0, 2, 0, 'x');
    const value = { edits: [wire('a', 0, 0, 0, 1, 'x', 2), other, backwards, { text: 'no range' }, null, 7] };
    assert.deepEqual(parseEdits(value, URI, 3), []);
    assert.deepEqual(parseEdits(null, URI, 3), []);
    assert.deepEqual(parseEdits({ edits: 'x' }, URI, 3), []);
  });
});

describe('EditSet', () => {
  it('appends each delta once and keeps what is shown in place', () => {
    const set = new EditSet();
    const first = edit('a', 5, 4, 5, 9, 'total');
    assert.deepEqual(set.add([first]), [first]);
    const second = edit('b', 9, 0, 9, 5, 'total');
    assert.deepEqual(set.add([first, second]), [second]);
    assert.deepEqual(set.edits.map((e) => e.id), ['a', 'b']);
    assert.equal(set.first, first);
  });

  it('refuses an edit that clashes with one shown', () => {
    const set = new EditSet();
    set.add([edit('a', 5, 4, 5, 9, 'total')]);
    assert.deepEqual(set.add([edit('b', 5, 6, 5, 12, 'x')]), []);
    assert.deepEqual(set.add([edit('c', 5, 9, 5, 9, 'y')]), [edit('c', 5, 9, 5, 9, 'y')]);
  });

  it('moves the other edits when one is applied', () => {
    const set = new EditSet();
    const applied = edit('a', 2, 4, 2, 9, 'total_count'); // 5 chars → 11 on line 2
    set.add([applied, edit('b', 2, 12, 2, 17, 'total'), edit('c', 7, 1, 7, 6, 'total'), edit('d', 0, 0, 0, 1, '')]);
    assert.deepEqual(set.applied(applied), []);
    assert.deepEqual(
      set.edits.map((e) => [e.id, e.range]),
      [
        ['b', { start: { line: 2, character: 18 }, end: { line: 2, character: 23 } }],
        ['c', { start: { line: 7, character: 1 }, end: { line: 7, character: 6 } }],
        ['d', { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }],
      ],
    );
  });

  it('moves lines when the applied edit adds or removes lines', () => {
    const applied = { range: { start: { line: 1, character: 0 }, end: { line: 3, character: 2 } }, text: 'a\nbc' };
    assert.deepEqual(rebase(edit('x', 3, 4, 5, 1, 'z'), applied)?.range, { start: { line: 2, character: 4 }, end: { line: 4, character: 1 } });
    assert.equal(rebase(edit('y', 2, 0, 2, 1, 'z'), applied), undefined);
  });

  it('clears everything for a dismissal', () => {
    const set = new EditSet();
    set.add([edit('a', 1, 0, 1, 1, 'x')]);
    assert.equal(set.clear().length, 1);
    assert.equal(set.size, 0);
  });
});

describe('drawingOf', () => {
  const lines = ['def f(count):', '    return count + 1', '', 'x = 1'];
  const lineAt = (n: number) => lines[n];

  it('shows an insertion at the cursor as ghost text', () => {
    assert.equal(drawingOf(edit('a', 2, 0, 2, 0, 'pass'), lineAt, { line: 2, character: 0 }).kind, 'ghost');
    assert.equal(drawingOf(edit('a', 2, 0, 2, 0, 'pass'), lineAt, { line: 0, character: 0 }).kind, 'inline');
  });

  it('shows a one-line change as the new line, with the old text marked', () => {
    const drawing = drawingOf(edit('a', 1, 11, 1, 16, 'total'), lineAt);
    assert.equal(drawing.kind, 'inline');
    assert.deepEqual(drawing.newLines, ['    return total + 1']);
    assert.deepEqual(drawing.deleted, { start: { line: 1, character: 11 }, end: { line: 1, character: 16 } });
  });

  it('shows a deletion as marked text only', () => {
    assert.deepEqual(drawingOf(edit('a', 2, 0, 3, 0, ''), lineAt), {
      kind: 'delete',
      deleted: { start: { line: 2, character: 0 }, end: { line: 3, character: 0 } },
      newLines: [],
    });
  });

  it('shows a change over several lines as the new lines', () => {
    const drawing = drawingOf(edit('a', 1, 4, 1, 20, 'if count:\n        return 0\n    return count + 1'), lineAt);
    assert.equal(drawing.kind, 'block');
    assert.deepEqual(drawing.newLines, ['    if count:', '        return 0', '    return count + 1']);
  });

  it('shows whole lines put in as a picture of just those lines', () => {
    assert.deepEqual(drawingOf(edit('a', 2, 0, 2, 0, '    y = 2\n    z = 3\n'), lineAt), { kind: 'block', newLines: ['    y = 2', '    z = 3'] });
    const replaced = drawingOf(edit('b', 1, 0, 2, 0, '    return count\n'), lineAt);
    assert.deepEqual(replaced, { kind: 'inline', deleted: { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } }, newLines: ['    return count'] });
  });

  it('jumps first when the cursor is not on the edit', () => {
    const e = edit('a', 4, 0, 5, 0, '');
    assert.equal(cursorAtEdit(e, { line: 2, character: 0 }), false);
    assert.equal(cursorAtEdit(e, { line: 5, character: 3 }), true);
  });

  it('reports shown with the item command', () => {
    assert.deepEqual(shownParams(edit('a', 0, 0, 0, 0, 'x')).item.command.arguments, ['a']);
  });
});

describe('the picture of new lines', () => {
  const style = { fontFamily: "Droid Sans Mono, 'monospace'", fontSize: 14, lineHeight: 19, tabSize: 4, ...themeColors('dark') };

  it('is one editor line per new line, in the editor font and theme colours', () => {
    const picture = renderLines(['    if a < b:', '        return a'], style);
    assert.equal(picture.height, 2 * 19 + 2);
    assert.match(picture.svg, /font-family="Droid Sans Mono, &apos;monospace&apos;"/);
    assert.match(picture.svg, /font-size="14px"/);
    assert.match(picture.svg, /fill="#cccccc"/);
    assert.match(picture.svg, />if a &lt; b:</);
    assert.match(picture.svg, / {4}return a</);
  });

  it('drops the shared indentation and expands tabs', () => {
    assert.deepEqual(displayLines(['\t\tx', '\t  y  ', ''], 4), ['  x', 'y', '']);
  });

  it('is a base64 data URI', () => {
    const uri = svgDataUri('<svg/>');
    assert.equal(Buffer.from(uri.split(',')[1], 'base64').toString(), '<svg/>');
    assert.ok(uri.startsWith('data:image/svg+xml;base64,'));
  });

  it('uses the editor line height', () => {
    assert.equal(editorLineHeight(14, 0), 19);
    assert.equal(editorLineHeight(14, 1.5), 21);
    assert.equal(editorLineHeight(14, 22), 22);
  });
});
