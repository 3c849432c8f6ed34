/**
 * Offers a file to the officer as a download (an object URL on a temporary
 * link), the way every export of the dashboard hands over what it made.
 *
 *     saveFile('incident-CN_2026-0042.json', new Blob([json], { type: 'application/json' }));
 */
export function saveFile(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** A file name from an identifier: `CN:2026-0042` → `CN_2026-0042` (colons and slashes are not allowed everywhere). */
export function fileSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_');
}
