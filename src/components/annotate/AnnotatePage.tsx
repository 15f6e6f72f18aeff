import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useApp } from '../../store';
import { getAnnotationController } from '../../services/annotations/instance';
import type { AnnotationController } from '../../services/annotations/controller';
import { Annotator } from './Annotator';
import { SessionList } from './SessionList';
import { Consensus } from './Consensus';
import './annotate.css';

/** The Annotate route: label photos (resumable) or build a consensus of several annotators. */
export function AnnotatePage({ controller }: { controller?: AnnotationController }) {
  const { t } = useTranslation();
  const [ctl] = useState(() => controller ?? getAnnotationController());
  const [tab, setTab] = useState<'annotate' | 'consensus'>('annotate');
  const a = useApp((s) => s.annotate);
  useEffect(() => {
    if (a.status === 'idle') void ctl.init();
  }, [ctl, a.status]);

  return (
    <div className="annotate" data-testid="annotate-page">
      <h2>{t('annotate.heading')}</h2>
      <p className="small muted">{t('annotate.intro')}</p>
      <div role="tablist" aria-label={t('annotate.tabs.label')} className="ann-row ann-tabs">
        {(['annotate', 'consensus'] as const).map((x) => (
          <button key={x} type="button" role="tab" aria-selected={tab === x} onClick={() => setTab(x)}>
            {t(`annotate.tabs.${x}`)}
          </button>
        ))}
      </div>
      {a.error && (
        <p className="error-box" role="alert">
          {t('annotate.error', { message: a.error })}
        </p>
      )}
      {tab === 'consensus' ? (
        <Consensus />
      ) : a.status === 'loading' || a.status === 'idle' ? (
        <p role="status">{t('annotate.loading')}</p>
      ) : a.session ? (
        <Annotator ctl={ctl} />
      ) : (
        <SessionList ctl={ctl} />
      )}
    </div>
  );
}
