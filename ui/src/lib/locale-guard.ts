/**
 * A process started with `LANG=C` (or `POSIX`) makes WebKitGTK report `navigator.language` as
 * "C", which is not a BCP 47 tag: `new Intl.NumberFormat("C")` throws a RangeError. Libraries
 * that format with the browser's language at load time (uPlot does) would then stop the whole
 * UI from starting. When the reported language is not a usable tag, this falls back to the first
 * usable one of `navigator.languages`, else `en-US`. Imported first in `main.tsx`, so it runs
 * before any other module.
 */
export function usableLanguage(reported: string | undefined, others: readonly string[] = []): string | null {
  for (const tag of [reported, ...others]) {
    if (typeof tag !== 'string' || tag === '') continue;
    try {
      if (Intl.NumberFormat.supportedLocalesOf([tag]).length > 0 || Intl.getCanonicalLocales(tag).length > 0) return tag;
    } catch {
      // RangeError: not a BCP 47 tag (e.g. "C"); try the next one.
    }
  }
  return null;
}

if (typeof navigator !== 'undefined') {
  const reported = navigator.language;
  const usable = usableLanguage(reported, navigator.languages ?? []) ?? 'en-US';
  if (usable !== reported) {
    Object.defineProperty(navigator, 'language', { value: usable, configurable: true });
  }
}
