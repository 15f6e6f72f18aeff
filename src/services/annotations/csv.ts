/**
 * RFC 4180 CSV for annotation files: what we write is read back by training's
 * `training/src/data/csv.ts` (the dataset reader), so the escaping rules are the same:
 * a field is quoted when it holds a comma, a quote, CR/LF or leading/trailing spaces, and a
 * quote inside is doubled. Unicode is written as is (UTF-8, no BOM; a BOM is accepted on read).
 */

/** Quote a field only when needed, so ordinary rows stay readable by people. */
export function csvField(v: string | number): string {
  const s = String(v);
  if (/[",\r\n]/.test(s) || s !== s.trim()) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

/** One CSV document (LF line ends, final newline). */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

export class CsvError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'CsvError';
  }
}

/** Parse CSV text into rows of fields (quoted fields may hold commas, quotes and line breaks); blank lines are skipped. */
export function parseCsv(text: string): { line: number; fields: string[] }[] {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  let line = 1;
  let recLine = 1;
  const endField = () => {
    fields.push(field);
    field = '';
    wasQuoted = false;
  };
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted) {
      if (ch === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          const next = s[i + 1];
          if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') throw new CsvError(`line ${line}: unexpected character after a closing quote`, line);
        }
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"') {
      if (field.length > 0) throw new CsvError(`line ${line}: quote inside an unquoted field`, line);
      quoted = true;
      wasQuoted = true;
    } else if (ch === ',') endField();
    else if (ch === '\r' || ch === '\n') {
      if (fields.length > 0 || field !== '' || wasQuoted) {
        endField();
        out.push({ line: recLine, fields });
      }
      fields = [];
      if (ch === '\r' && s[i + 1] === '\n') i++;
      line++;
      recLine = line;
    } else field += ch;
  }
  if (quoted) throw new CsvError(`line ${recLine}: unterminated quoted field`, recLine);
  if (fields.length > 0 || field !== '' || wasQuoted) {
    endField();
    out.push({ line: recLine, fields });
  }
  return out;
}
