import type { ReactNode } from 'react';

/**
 * The box a table sits in: on a phone a wide table (records, a report's findings, a batch, the
 * model card's metrics) scrolls sideways inside it instead of making the whole page wider than the
 * screen. It takes focus, so the keyboard can scroll it too (WCAG 2.1.1; axe's
 * scrollable-region-focusable), and it is a named region, so that focus stop announces what it holds.
 */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
