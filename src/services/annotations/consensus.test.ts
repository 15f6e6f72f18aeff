import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FundusLensError } from '../../core/errors';
import { toCsv, parseCsv } from './csv';
import { adjKey, agreementTable, consensus, consensusCsv, decide, disagreements, kappaWords, raterNames, readAnnotatorCsv } from './consensus';
import { exportLabelsCsv, type AnnotationRecord, type LabelVector } from './labels';
import { CONSENSUS_RATERS } from './fixtures/records';

const fixture = (name: string) => readFileSync(join(process.cwd(), 'src/services/annotations/fixtures', name), 'utf8');

/** An annotator's file as the app exports it: rows of [image, ma, hm, hex, cws] (healthy derived). */
function exported(annotator: string, rows: [string, number, number, number, number][]): string {
  const recs: AnnotationRecord[] = rows.map(([image, ma, hm, hex, cws], i) => {
    const v = { ma, hm, hex, cws, healthy: ma + hm + hex + cws ? 0 : 1 } as LabelVector;
    return { id: `x/${i}`, sessionId: 'x', image, labels: v, ms: 1000 };
  });
  return exportLabelsCsv(recs, annotator).csv;
}

describe('per-label agreement table built from annotators’ CSV files', () => {
  it('two annotators: Cohen’s κ per label equals the hand-computed value', () => {
    // ma: A = 1110000011, B = 1100000111 → p_o = 8/10, both tick 5/10 → p_e = 0.5, κ = 0.6
    // hex: A ticks photos 0,1; B ticks 0 only → p_o = 9/10; p_e = 0.2·0.1 + 0.8·0.9 = 0.74; κ = 0.16/0.26
    const A = [1, 1, 1, 0, 0, 0, 0, 0, 1, 1];
    const B = [1, 1, 0, 0, 0, 0, 0, 1, 1, 1];
    const a = exported('Ann', A.map((m, i) => [`p${i}.jpg`, m, 0, i < 2 ? 1 : 0, 0]));
    const b = exported('Bob', B.map((m, i) => [`p${i}.jpg`, m, 0, i < 1 ? 1 : 0, 0]));
    const sets = [readAnnotatorCsv(a, 'labels.csv'), readAnnotatorCsv(b, 'labels (1).csv')];
    expect(sets.map((s) => s.annotator)).toEqual(['Ann', 'Bob']);
    const t = agreementTable(sets);
    const row = (l: string) => t.find((r) => r.label === l)!;
    expect(row('ma')).toMatchObject({ method: 'cohen', n: 10, observed: 0.8, positiveRate: 0.5 });
    expect(row('ma').kappa).toBeCloseTo(0.6, 12);
    expect(row('hex').kappa).toBeCloseTo(0.16 / 0.26, 12);
    // nobody ever ticked hm: κ undefined (p_e = 1), agreement still 100 %
    expect(row('hm').kappa).toBeNaN();
    expect(row('hm').observed).toBe(1);
    // healthy: A healthy on 3,4,5,6,7 ; B on 2,3,4,5,6 → p_o = 8/10, p_e = 0.5 → 0.6
    expect(row('healthy').kappa).toBeCloseTo(0.6, 12);
    expect(kappaWords(0.6)).toBe('moderate');
    expect(kappaWords(Number.NaN)).toBe('undefined');
  });

  it('three annotators: Fleiss’ κ per label equals the hand-computed value; only photos everyone rated count', () => {
    // cws ones per photo: 3, 0, 2, 1 → P_i = 1, 1, 1/3, 1/3 → P̄ = 2/3; p_1 = 6/12 → P̄_e = 0.5 → κ = 1/3
    const votes = [
      [1, 1, 1],
      [0, 0, 0],
      [1, 1, 0],
      [0, 1, 0],
    ];
    const files = [0, 1, 2].map((r) =>
      readAnnotatorCsv(
        exported(`R${r}`, [...votes.map((v, i) => [`img ${i}.jpg`, 0, 0, 0, v[r]] as [string, number, number, number, number]), ...(r === 0 ? [['only-r0.jpg', 1, 0, 0, 0] as [string, number, number, number, number]] : [])]),
        `r${r}.csv`,
      ),
    );
    const t = agreementTable(files);
    const cws = t.find((r) => r.label === 'cws')!;
    expect(cws.method).toBe('fleiss');
    expect(cws.n).toBe(4); // only-r0.jpg is not rated by everyone
    expect(cws.kappa).toBeCloseTo(1 / 3, 12);
    expect(cws.observed).toBe(0.5);
  });

  it('reads partial files: empty cells are "not rated", healthy inferred, contradictions left out with a warning', () => {
    const text = toCsv(
      ['image', 'ma', 'hm', 'hex', 'cws', 'healthy'],
      [
        ['a.jpg', '', '', '', '', '1'],
        ['b.jpg', '1', '', '', '', ''],
        ['c.jpg', '1', '0', '0', '0', '1'],
        ['d.jpg', '0', '0', '0', '0', ''],
      ],
    );
    const s = readAnnotatorCsv(text, 'dr-x.csv');
    expect(s.annotator).toBe('dr-x');
    expect(s.labels.get('a.jpg')).toEqual({ ma: 0, hm: 0, hex: 0, cws: 0, healthy: 1 });
    expect(s.labels.get('b.jpg')).toEqual({ ma: 1, healthy: 0 });
    expect(s.labels.has('c.jpg')).toBe(false);
    expect(s.labels.get('d.jpg')?.healthy).toBe(1);
    expect(s.warnings.join()).toMatch(/c\.jpg.*healthy is 1 but a lesion/);
    expect(() => readAnnotatorCsv('image,ma\nx.jpg,2\n', 'bad.csv')).toThrow(FundusLensError);
    expect(() => readAnnotatorCsv('name,ma\nx.jpg,1\n', 'bad.csv')).toThrow(/"image" column/);
    expect(raterNames([s, s])).toEqual(['dr-x', 'dr-x (2)']);
  });
});

describe('consensus rules', () => {
  it('majority: more than half of those who rated; ties undecided', () => {
    expect(decide([1, 1, 0], { kind: 'majority' })).toBe(1);
    expect(decide([1, 0, 0], { kind: 'majority' })).toBe(0);
    expect(decide([1, 0], { kind: 'majority' })).toBeNull();
    expect(decide([1, 0, null, 1], { kind: 'majority' })).toBe(1);
    expect(decide([null, null], { kind: 'majority' })).toBeNull();
  });
  it('at least k: positive with k ticks, negative once k is out of reach, else undecided', () => {
    expect(decide([1, 0, 0], { kind: 'atLeast', k: 1 })).toBe(1);
    expect(decide([1, 0, 0], { kind: 'atLeast', k: 2 })).toBe(0);
    expect(decide([1, 1, 0], { kind: 'atLeast', k: 3 })).toBe(0);
    expect(decide([1, 1, 1], { kind: 'atLeast', k: 3 })).toBe(1);
    expect(decide([1, null, 0], { kind: 'atLeast', k: 2 })).toBeNull();
    expect(() => decide([1], { kind: 'atLeast', k: 0 })).toThrow(RangeError);
  });

  it('disagreements, adjudication and a consistent healthy in the consensus (golden file for training)', () => {
    const sets = CONSENSUS_RATERS.map((r) => readAnnotatorCsv(exported(r.annotator, r.rows), `${r.annotator}.csv`));
    const dis = disagreements(sets, { kind: 'majority' });
    expect(dis.map((d) => `${d.image}:${d.label}:${d.ruled}`)).toEqual(['b.jpg:ma:1', 'c.jpg:hex:0', 'd.jpg:ma:null', 'd.jpg:cws:null']);
    const maj = consensus(sets, { kind: 'majority' });
    const byImg = Object.fromEntries(maj.map((r) => [r.image, r.labels]));
    expect(byImg['a.jpg']).toEqual({ ma: 0, hm: 0, hex: 0, cws: 0, healthy: 1 });
    expect(byImg['b.jpg']).toEqual({ ma: 1, hm: 0, hex: 0, cws: 0, healthy: 0 });
    expect(byImg['c.jpg']).toEqual({ ma: 0, hm: 0, hex: 0, cws: 0, healthy: 1 });
    // d.jpg only rated by two who disagree on ma and cws → undecided, healthy unknown
    expect(byImg['d.jpg']).toEqual({ ma: null, hm: 0, hex: 0, cws: null, healthy: null });
    // at least 1 of 3: any tick counts
    const any = Object.fromEntries(consensus(sets, { kind: 'atLeast', k: 1 }).map((r) => [r.image, r.labels]));
    expect(any['c.jpg']).toMatchObject({ hex: 1, healthy: 0 });
    // adjudicating d.jpg's ma as present makes healthy 0 even with cws undecided
    const adj = new Map([[adjKey('d.jpg', 'ma'), 1 as const]]);
    const withAdj = consensus(sets, { kind: 'majority' }, adj).find((r) => r.image === 'd.jpg')!;
    expect(withAdj).toEqual({ image: 'd.jpg', labels: { ma: 1, hm: 0, hex: 0, cws: null, healthy: 0 }, adjudicated: ['ma'] });
    const csv = consensusCsv(sets, { kind: 'majority' }, adj);
    expect(csv).toBe(fixture('consensus.labels.csv'));
    const rows = parseCsv(csv).map((r) => r.fields);
    expect(rows[0].slice(0, 6)).toEqual(['image', 'ma', 'hm', 'hex', 'cws', 'healthy']);
    expect(rows.find((r) => r[0] === 'd.jpg')).toEqual(['d.jpg', '1', '0', '0', '', '0', '3', 'majority', 'ma', '1/2', '0/2', '0/2', '1/2']);
  });
});
