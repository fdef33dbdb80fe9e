// A Web Storage (getItem, setItem, removeItem) over a Map, for tests of code that keeps state in
// sessionStorage or localStorage. `entries` seeds it; `map` shows what was stored.
export function memoryStorage(entries = {}) {
  const map = new Map(Object.entries(entries));
  return {
    map,
    getItem: (key) => (map.has(key) ? map.get(key) : null),
    setItem: (key, value) => map.set(key, String(value)),
    removeItem: (key) => map.delete(key),
  };
}
