/**
 * UTF-8 encode/decode without TextEncoder/TextDecoder: core compiles against ES2022 only
 * (no DOM, no Node typings), and bundle JSON files are small.
 */

/** Encodes a JS string as UTF-8 (lone surrogates become U+FFFD, as TextEncoder does). */
export function utf8Encode(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/** Decodes UTF-8 (invalid sequences become U+FFFD). */
export function utf8Decode(b: Uint8Array): string {
  const parts: string[] = [];
  let chunk: number[] = [];
  const flush = () => {
    parts.push(String.fromCodePoint(...chunk));
    chunk = [];
  };
  let i = 0;
  // skip a byte-order mark, as TextDecoder does
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3;
  while (i < b.length) {
    const c = b[i];
    let cp = 0xfffd;
    let n = 1;
    if (c < 0x80) cp = c;
    else if (c >= 0xc2 && c < 0xe0) n = 2;
    else if (c >= 0xe0 && c < 0xf0) n = 3;
    else if (c >= 0xf0 && c < 0xf5) n = 4;
    if (n > 1) {
      let v = c & (0xff >> (n + 1));
      let ok = i + n <= b.length;
      for (let k = 1; ok && k < n; k++) {
        const d = b[i + k];
        if ((d & 0xc0) !== 0x80) ok = false;
        else v = (v << 6) | (d & 63);
      }
      const min = n === 2 ? 0x80 : n === 3 ? 0x800 : 0x10000;
      if (ok && v >= min && v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff)) cp = v;
      else n = 1;
    }
    chunk.push(cp);
    if (chunk.length >= 8192) flush();
    i += n;
  }
  flush();
  return parts.join('');
}
