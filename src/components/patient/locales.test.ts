import { describe, expect, it } from 'vitest';
import en from '../../i18n/locales/en';
import zh from '../../i18n/locales/zh';
import es from '../../i18n/locales/es';

/** Every leaf key path of a messages object. */
function keys(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`]));
}
const placeholders = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
function get(o: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((x, k) => (x as Record<string, unknown> | undefined)?.[k], o);
}

describe.each([
  ['zh', zh],
  ['es', es],
])('%s locale', (_name, loc) => {
  const enKeys = keys(en).filter((k) => !k.startsWith('patient.plain.'));
  it('has every key of en.ts (nothing falls back to English)', () => {
    const missing = enKeys.filter((k) => typeof get(loc, k) !== 'string');
    expect(missing).toEqual([]);
  });
  it('has no key that en.ts lacks', () => {
    const extra = keys(loc as Record<string, unknown>).filter((k) => !k.startsWith('patient.plain.') && typeof get(en, k) !== 'string');
    expect(extra).toEqual([]);
  });
  it('keeps every {{placeholder}} of the English string', () => {
    const bad = enKeys.filter((k) => JSON.stringify(placeholders(get(en, k) as string)) !== JSON.stringify(placeholders(String(get(loc, k)))));
    expect(bad).toEqual([]);
  });
  it('names all four lesions in plain words for patients', () => {
    for (const id of ['ma', 'hm', 'hex', 'cws']) expect((loc.patient?.plain as Record<string, string>)[id]).toBeTruthy();
  });
});
