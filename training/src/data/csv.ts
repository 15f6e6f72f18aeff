/**
 * Minimal RFC 4180 CSV parser: quoted fields (commas, doubled quotes and line breaks inside
 * quotes), CRLF or LF, a leading BOM. Records remember the line they start on so that
 * errors can name it.
 */

export interface CsvRecord {
  /** 1-based physical line number where the record starts */
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

/** Parse CSV text into records; fully blank lines are skipped. */
export function parseCsv(text: string): CsvRecord[] {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recLine = 1;
  let i = 0;
  let quoted = false; // inside a quoted field
  let wasQuoted = false; // current field started with a quote
  const endField = () => {
    fields.push(field);
    field = '';
    wasQuoted = false;
  };
  const endRecord = () => {
    endField();
    out.push({ line: recLine, fields });
    fields = [];
  };
  while (i < s.length) {
    const ch = s[i];
    if (quoted) {
      if (ch === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const next = s[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new CsvSyntaxError(`line ${line}: unexpected character after a closing quote`, line);
        }
        continue;
      }
      if (ch === '\n') line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === '"') {
      if (field.length > 0) throw new CsvSyntaxError(`line ${line}: quote inside an unquoted field`, line);
      quoted = true;
      wasQuoted = true;
      i++;
      continue;
    }
    if (ch === ',') {
      endField();
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      const blank = fields.length === 0 && field === '' && !wasQuoted;
      if (blank) fields = [];
      else endRecord();
      if (ch === '\r' && s[i + 1] === '\n') i++;
      i++;
      line++;
      recLine = line;
      continue;
    }
    field += ch;
    i++;
  }
  if (quoted) throw new CsvSyntaxError(`line ${recLine}: unterminated quoted field`, recLine);
  if (fields.length > 0 || field !== '' || wasQuoted) endRecord();
  return out;
}
