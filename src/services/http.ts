/**
 * Whether `res` is the file that was asked for. Static hosts and the dev/preview server answer an unknown path
 * with the single-page app's index.html (200, text/html) instead of a 404, so a missing bundle file, sample
 * manifest or metadata.json would otherwise be read as HTML. None of the files fetched this way is HTML.
 */
export function isServedFile(res: Response): boolean {
  return res.ok && !(res.headers.get('content-type') ?? '').includes('text/html');
}
