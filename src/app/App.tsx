import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { appStore, photoUnreadable, selectSelected, useApp, type Route } from '../store';
import { loadModelCard } from '../services/instance';
import { OpenPhotos } from '../components/OpenPhotos';
import { Queue } from '../components/Queue';
import { ResultPanel } from '../components/ResultPanel';
import { Viewer } from '../components/Viewer';
import { ModelCard } from '../components/ModelCard';
import { DemoMode } from '../components/DemoMode';
import { ModelStatus, Notices, Settings, UpdatePrompt } from '../components/Chrome';
import { AnnotatePage } from '../components/annotate/AnnotatePage';
import { SaveRecord } from '../components/records/SaveRecord';
import { RecordsPage } from '../components/records/RecordsPage';
import { LanguageSwitch } from '../components/records/LanguageSwitch';
import { RecordView } from '../components/report/RecordView';
import { PatientView } from '../components/patient/PatientView';
import { BatchPage } from '../components/batch/BatchPage';
import { ErrorBoundary } from './ErrorBoundary';

const ROUTES: Record<string, Route> = { '#/model': 'model', '#/demo': 'demo', '#/annotate': 'annotate', '#/records': 'records', '#/batch': 'batch' };
export const routeFromHash = (h: string): Route =>
  ROUTES[h] ?? (h.startsWith('#/record/') ? 'record' : h.startsWith('#/patient/') ? 'patient' : 'analyse');

function useHashRoute(): Route {
  const route = useApp((s) => s.route);
  useEffect(() => {
    const sync = () => appStore.getState().setRoute(routeFromHash(location.hash));
    sync();
    window.addEventListener('hashchange', sync);
    return () => window.removeEventListener('hashchange', sync);
  }, []);
  return route;
}

/**
 * "Screening aid, not a diagnosis" and the model's intended use, on every page. On a phone the
 * intended use (a paragraph: what trained the model, that it is not a medical device) would fill
 * half the first screen on every page, so there it shows two lines and a button opens the rest;
 * the bold warning always shows in full.
 */
function Disclaimer() {
  const { t } = useTranslation();
  const card = useApp((s) => s.card);
  const [open, setOpen] = useState(false);
  return (
    <div className={`disclaimer${open ? ' open' : ''}`} role="note" data-testid="disclaimer">
      <strong>{t('app.disclaimer')}</strong>{' '}
      <span className="intended-use" id="intended-use">
        {card.metadata ? t('app.intendedUse', { text: card.metadata.intendedUse }) : card.status === 'error' ? '' : t('app.intendedUseLoading')}
      </span>
      {card.metadata && (
        <button type="button" className="link disclaimer-more" aria-expanded={open} aria-controls="intended-use" onClick={() => setOpen(!open)}>
          {open ? t('app.intendedUseLess') : t('app.intendedUseMore')}
        </button>
      )}
    </div>
  );
}

function AnalysePage() {
  const photo = useApp(selectSelected);
  // a file that is no photo: the result panel says why; there is nothing to view or keep
  const shown = photo && !photoUnreadable(photo) ? photo : undefined;
  return (
    <div className="analyse">
      <div className="col-left">
        <OpenPhotos />
        <Queue />
      </div>
      {/* DOM order = the narrow layout's order (verdict, photo, record), which is also the reading order */}
      <div className="col-right">
        <ResultPanel photo={photo} />
      </div>
      <div className="col-main">{shown ? <Viewer photo={shown} /> : null}</div>
      <div className="col-record">{shown ? <SaveRecord photo={shown} /> : null}</div>
    </div>
  );
}

export function App() {
  const { t } = useTranslation();
  const route = useHashRoute();
  useEffect(() => {
    void loadModelCard();
  }, []);
  if (route === 'demo')
    return (
      <ErrorBoundary>
        <DemoMode />
      </ErrorBoundary>
    );
  const link = (r: Route, href: string, label: string) => (
    <a href={href} aria-current={route === r ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <header className="top">
        <div className="brand">
          <img src={`${import.meta.env.BASE_URL}icons/icon.svg`} alt="" width={32} height={32} />
          <div>
            <h1>{t('app.title')}</h1>
            <p className="tagline">{t('app.tagline')}</p>
          </div>
        </div>
        <nav aria-label={t('app.nav.label')}>
          {link('analyse', '#/', t('app.nav.analyse'))}
          {link('model', '#/model', t('app.nav.model'))}
          {link('demo', '#/demo', t('app.nav.demo'))}
          {link('annotate', '#/annotate', t('app.nav.annotate'))}
          {link('records', '#/records', t('app.nav.records'))}
          {link('batch', '#/batch', t('app.nav.batch'))}
        </nav>
        <LanguageSwitch />
        <Settings />
      </header>
      <Disclaimer />
      <UpdatePrompt />
      <ModelStatus />
      <Notices />
      <main id="main" tabIndex={-1}>
        <ErrorBoundary>{route === 'model' ? (
            <ModelCard />
          ) : route === 'annotate' ? (
            <AnnotatePage />
          ) : route === 'records' ? (
            <RecordsPage />
          ) : route === 'record' ? (
            <RecordView />
          ) : route === 'patient' ? (
            <PatientView />
          ) : route === 'batch' ? (
            <BatchPage />
          ) : (
            <AnalysePage />
          )}</ErrorBoundary>
      </main>
    </>
  );
}
