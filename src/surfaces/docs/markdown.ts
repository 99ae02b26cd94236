/** Escapes text for one Markdown table cell (GFM: `\|` works inside code spans too). */
export const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** A Markdown table; cells are escaped. */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `| ${header.map(() => '---').join(' | ')} |`, ...rows.map(line)].join('\n');
}

/** A fenced code block. */
export const fence = (lang: string, body: string): string => `\`\`\`${lang}\n${body}\n\`\`\``;

/** Inline code, safe for table cells. */
export const code = (text: string): string => `\`${text}\``;

/** The file name of an operation's page. */
export const pageFileOf = (key: string): string => `${key}.md`;

/** A heading anchor as GitHub renders it. */
export const anchorOf = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
