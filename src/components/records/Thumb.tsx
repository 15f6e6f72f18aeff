import { useEffect, useState } from 'react';
import { getRecordStore } from '../../services/records';

/** A record's stored thumbnail (object URL, revoked on unmount). */
export function Thumb({ id, alt, size = 72 }: { id: string; alt: string; size?: number }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let u: string | null = null;
    let live = true;
    void getRecordStore()
      .then((db) => db.thumbnail(id))
      .then((b) => {
        if (b && live) setUrl((u = URL.createObjectURL(b)));
      });
    return () => {
      live = false;
      if (u) URL.revokeObjectURL(u);
    };
  }, [id]);
  return url ? <img className="thumb" src={url} alt={alt} width={size} height={size} /> : <span className="thumb thumb-empty" style={{ width: size, height: size }} aria-hidden="true" />;
}
