// Reads the environment's public config the build put in the page as JSON data.
export function readConfig(doc) {
  const element = doc.getElementById('site-config');
  if (!element) return null;
  return JSON.parse(element.textContent);
}
