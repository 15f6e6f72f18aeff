import { useEffect, useRef, useState } from 'react';
import type { LesionLabelId } from '../../core/types';
import { annotatedPhotoCanvas } from '../../services/reports/image';
import type { RecordAnalysis } from '../../services/records';
import { dashArray } from '../../render/legend';
import { DEFAULT_COLOURS } from '../../render/overlay';

/** The stored photo with its lesion outlines (render/ functions on a canvas) and an HTML legend. */
export function AnnotatedPhoto({ photo, analysis, alt, names, maxSide = 900 }: { photo: Blob; analysis: RecordAnalysis | null; alt: string; names?: Partial<Record<LesionLabelId, string>>; maxSide?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    void annotatedPhotoCanvas(photo, analysis, { maxSide })
      .then((c) => {
        if (!live || !box.current) return;
        c.setAttribute('role', 'img');
        c.setAttribute('aria-label', alt);
        c.className = 'annotated-canvas';
        c.dataset.testid = 'annotated-photo';
        box.current.replaceChildren(c);
      })
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [photo, analysis, alt, maxSide]);
  const present = analysis ? analysis.labels.filter((l) => l.id !== 'healthy' && analysis.outlines.some((o) => o.label === l.id)) : [];
  return (
    <figure className="annotated">
      <div ref={box} className="annotated-box">
        {failed && <p className="muted">{alt}</p>}
      </div>
      {present.length > 0 && (
        <figcaption>
          <ul className="legend-list">
            {present.map((l) => (
              <li key={l.id}>
                <svg width="36" height="10" aria-hidden="true">
                  <line x1="0" y1="5" x2="36" y2="5" stroke={l.colour ?? DEFAULT_COLOURS[l.id as LesionLabelId]} strokeWidth="3" strokeDasharray={dashArray(l.id as LesionLabelId)} />
                </svg>{' '}
                {names?.[l.id as LesionLabelId] ?? `${l.name} — ${l.plainName}`}
              </li>
            ))}
          </ul>
        </figcaption>
      )}
    </figure>
  );
}
