import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useApp } from '../../store';
import type { AnnotationController } from '../../services/annotations/controller';

const NAME_KEY = 'funduslens.annotator';

/** Start a set (annotator name + photos) or resume / delete one stored on this device. */
export function SessionList({ ctl }: { ctl: AnnotationController }) {
  const { t } = useTranslation();
  const sessions = useApp((s) => s.annotate.sessions);
  const [name, setName] = useState(() => (typeof localStorage !== 'undefined' ? (localStorage.getItem(NAME_KEY) ?? '') : ''));
  const [msg, setMsg] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const open = async (files: File[]) => {
    if (!files.length) return;
    const { duplicates } = await ctl.startSession(name.trim(), files.map((f) => ({ name: f.name, blob: f })));
    setMsg(duplicates.length ? t('annotate.duplicates', { names: duplicates.join(', ') }) : null);
  };

  return (
    <section className="panel ann-start" aria-labelledby="ann-start-h">
      <h3 id="ann-start-h" className="visually-hidden">
        {t('annotate.open')}
      </h3>
      <label>
        {t('annotate.annotator')}{' '}
        <input
          value={name}
          onChange={(e) => {
            setName(e.currentTarget.value);
            localStorage.setItem(NAME_KEY, e.currentTarget.value);
          }}
          data-testid="ann-name"
          autoComplete="name"
        />
      </label>
      <p className="small muted">{t('annotate.annotatorHint')}</p>
      <input
        ref={input}
        id="ann-file-input"
        className="visually-hidden"
        type="file"
        accept="image/*"
        multiple
        data-testid="ann-file-input"
        aria-label={t('annotate.open')}
        tabIndex={-1}
        onChange={(e) => {
          const files = [...(e.currentTarget.files ?? [])];
          e.currentTarget.value = '';
          void open(files);
        }}
      />
      <button type="button" className="primary" disabled={!name.trim()} onClick={() => input.current?.click()}>
        {t('annotate.open')}
      </button>
      {!name.trim() && <p className="small muted">{t('annotate.needName')}</p>}
      {msg && (
        <p className="small" role="status">
          {msg}
        </p>
      )}
      <h3>{t('annotate.sessions')}</h3>
      {!sessions.length ? (
        <p className="muted small">{t('annotate.noSessions')}</p>
      ) : (
        <ul className="ann-sessions" data-testid="ann-sessions">
          {sessions.map((s) => (
            <li key={s.id}>
              <span>
                {t('annotate.sessionLine', { title: s.title, done: s.done ?? 0, count: s.count, annotator: s.annotator || '—', when: new Date(s.updatedAt).toLocaleString() })}
              </span>{' '}
              <button type="button" onClick={() => void ctl.resume(s.id)}>
                {t('annotate.resume')}
              </button>{' '}
              <button
                type="button"
                onClick={() => {
                  if (window.confirm(t('annotate.deleteConfirm'))) void ctl.deleteSession(s.id);
                }}
              >
                {t('annotate.delete')}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
