/** Markdown → HTML for the Explain panel. Raw HTML in the model's text is escaped, never rendered. Pure. */
import MarkdownIt from 'markdown-it';

const md = new MarkdownIt({ html: false, linkify: true, breaks: false, typographer: false });

// Only http(s) and mailto links (markdown-it already refuses javascript:, vbscript:, file: and most data:).
const defaultValidate = md.validateLink.bind(md);
md.validateLink = (url: string): boolean => defaultValidate(url) && /^(https?:|mailto:|#)/i.test(url.trim());

export function renderMarkdown(text: string): string {
  return md.render(text);
}
