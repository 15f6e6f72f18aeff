import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LABEL_IDS, LESION_LABEL_IDS, type LabelId } from '../../core/types';
import { loadSamples, type Sample } from '../../services/samples';
import { appBase } from '../../services/instance';

/** The example for a label: a sample with that label and as few others as possible (synthetic images only). */
export function exampleFor(samples: readonly Sample[], label: LabelId): Sample | undefined {
  const vec = (s: Sample): Record<string, number> | null => {
    if (!s.labels) return null;
    if (Array.isArray(s.labels)) return Object.fromEntries(LABEL_IDS.map((l) => [l, (s.labels as string[]).includes(l) ? 1 : 0]));
    return s.labels;
  };
  let best: Sample | undefined;
  let bestOthers = Infinity;
  for (const s of samples) {
    const v = vec(s);
    if (!v || v[label] !== 1 || s.gradable === false) continue;
    const others = LESION_LABEL_IDS.filter((l) => l !== label && v[l] === 1).length;
    if (others < bestOthers) {
      best = s;
      bestOthers = others;
    }
  }
  return best;
}

/** The annotation standard: one short definition and one example picture per element. `onClose` makes it a drawer. */
export function Standard({ onClose }: { onClose?: () => void } = {}) {
  const { t } = useTranslation();
  const [samples, setSamples] = useState<Sample[] | null>(null);
  useEffect(() => {
    let live = true;
    void loadSamples(appBase()).then((s) => live && setSamples(s));
    return () => {
      live = false;
    };
  }, []);
  return (
    <section className={`panel ann-standard${onClose ? ' ann-drawer' : ''}`} aria-labelledby="ann-standard-h" data-testid="ann-standard">
      <div className="ann-drawer-head">
        <h3 id="ann-standard-h">{t('annotate.standard.heading')}</h3>
        {onClose && (
          <button type="button" onClick={onClose}>
            {t('annotate.standardHide')}
          </button>
        )}
      </div>
      <p className="small">{t('annotate.standard.rules')}</p>
      <dl>
        {LABEL_IDS.map((l, i) => {
          const ex = samples ? exampleFor(samples, l) : undefined;
          return (
            <div key={l} className="ann-def">
              <dt>
                <kbd>{i + 1}</kbd> {t(`annotate.labels.${l}`)}
              </dt>
              <dd>
                <p>{t(`annotate.standard.${l}`)}</p>
                {ex ? (
                  <figure>
                    <a href={ex.url} target="_blank" rel="noopener">
                      <img src={ex.url} alt={t('annotate.standard.example', { title: ex.title })} loading="lazy" />
                    </a>
                    <figcaption className="small muted">{t('annotate.standard.example', { title: ex.title })}</figcaption>
                  </figure>
                ) : samples ? (
                  <p className="small muted">{t('annotate.standard.noExample')}</p>
                ) : null}
              </dd>
            </div>
          );
        })}
      </dl>
    </section>
  );
}
