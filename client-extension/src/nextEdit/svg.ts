/**
 * The picture of a multi-line change, drawn beside the lines it replaces (VS Code's stable API
 * cannot insert lines of styled text between lines: an SVG data URI in a decoration's
 * `contentIconPath` can, as Continue and Cody do). Pure: the editor's font and the theme's colours
 * are passed in.
 */

export interface SvgStyle {
  fontFamily: string;
  /** px */
  fontSize: number;
  /** px */
  lineHeight: number;
  tabSize: number;
  foreground: string;
  background: string;
  border: string;
  /** Tint behind the new lines. */
  inserted: string;
}

/** Colours close to VS Code's default themes of each kind (an extension cannot read the theme's values). */
export function themeColors(kind: 'dark' | 'light' | 'highContrast' | 'highContrastLight'): Pick<SvgStyle, 'foreground' | 'background' | 'border' | 'inserted'> {
  switch (kind) {
    case 'light':
      return { foreground: '#3b3b3b', background: '#ffffff', border: '#0078d4', inserted: 'rgba(156, 204, 44, 0.25)' };
    case 'highContrast':
      return { foreground: '#ffffff', background: '#000000', border: '#6fc3df', inserted: 'rgba(51, 204, 51, 0.3)' };
    case 'highContrastLight':
      return { foreground: '#292929', background: '#ffffff', border: '#0f4a85', inserted: 'rgba(55, 148, 0, 0.2)' };
    default:
      return { foreground: '#cccccc', background: '#1f1f1f', border: '#0078d4', inserted: 'rgba(156, 204, 44, 0.2)' };
  }
}

/** VS Code's line height for a font size when `editor.lineHeight` is 0 (or a multiplier below 8). */
export function editorLineHeight(fontSize: number, setting: number): number {
  if (setting <= 0) {
    return Math.round(fontSize * 1.35);
  }
  return setting < 8 ? Math.round(fontSize * setting) : setting;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** Tabs to spaces and the indentation all lines share removed: the picture shows the change, not the margin. */
export function displayLines(lines: readonly string[], tabSize: number): string[] {
  const expanded = lines.map((line) => {
    let out = '';
    for (const c of line) {
      out += c === '\t' ? ' '.repeat(tabSize - (out.length % tabSize)) : c;
    }
    return out.replace(/\s+$/, '');
  });
  const indents = expanded.filter((line) => line !== '').map((line) => line.length - line.trimStart().length);
  const common = indents.length ? Math.min(...indents) : 0;
  return expanded.map((line) => line.slice(common));
}

export interface Picture {
  svg: string;
  width: number;
  height: number;
}

/** The new lines as an SVG in the editor's font: one row per line, each as tall as an editor line. */
export function renderLines(lines: readonly string[], style: SvgStyle): Picture {
  const shown = displayLines(lines, style.tabSize);
  const charWidth = style.fontSize * 0.6; // monospace advance; a little room is kept either way
  const padX = Math.round(charWidth);
  const longest = Math.max(1, ...shown.map((line) => line.length));
  const width = Math.ceil(longest * charWidth + 2 * padX);
  const height = shown.length * style.lineHeight + 2;
  const baseline = Math.round((style.lineHeight + style.fontSize * 0.7) / 2);
  const rows = shown
    .map(
      (line, i) =>
        `<text x="${padX}" y="${1 + i * style.lineHeight + baseline}" xml:space="preserve">${escapeXml(line)}</text>`,
    )
    .join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" rx="2" fill="${escapeXml(style.background)}" stroke="${escapeXml(style.border)}"/>` +
    `<rect x="1" y="1" width="${width - 2}" height="${height - 2}" fill="${escapeXml(style.inserted)}"/>` +
    `<g font-family="${escapeXml(style.fontFamily)}" font-size="${style.fontSize}px" fill="${escapeXml(style.foreground)}" style="white-space:pre">${rows}</g>` +
    `</svg>`;
  return { svg, width, height };
}

export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}
