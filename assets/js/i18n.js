// The page language's strings for scripts: the build puts `script.*` of site/i18n/<lang>.json in the
// page as JSON data (`site-strings`), keyed without the `script.` prefix.

/** Reads the strings the build put in the page; an empty table when there are none. */
export function readStrings(doc) {
  const element = doc.getElementById('site-strings');
  return element ? JSON.parse(element.textContent) : {};
}

/**
 * A lookup function over `table`: `t('errors.NetworkError')`, with `{name}` placeholders filled from `values`.
 * A missing key shows the key itself, so a gap is visible rather than blank.
 */
export function translator(table) {
  return (key, values = {}) => {
    const text = Object.hasOwn(table, key) ? table[key] : key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(values, name) ? String(values[name]) : whole));
  };
}
