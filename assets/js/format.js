// Numbers for people in the page's language (`locale`: 'pt-BR' or 'en'), worded by Intl. Pure.
// Sizes and speeds are in SI units (1 kB = 1000 B), as file managers and browsers show them.

/** What is shown where there is no value to show. */
const NONE = '—';

const SIZE_UNITS = ['kilobyte', 'megabyte', 'gigabyte', 'terabyte'];
const SPEED_UNITS = ['kilobyte-per-second', 'megabyte-per-second', 'gigabyte-per-second', 'terabyte-per-second'];

const isAmount = (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** `amount` (of the unit before `units[0]`, 1000 times smaller) in the largest of `units` that keeps it at 1 or more, one decimal at most. */
function scaled(amount, units, locale) {
  let value = amount / 1000;
  let index = 0;
  // Moves up on the rounded value, so 999,960 B is 1 MB, not 1,000 kB.
  while (index < units.length - 1 && Math.round(value * 10) / 10 >= 1000) {
    value /= 1000;
    index += 1;
  }
  return new Intl.NumberFormat(locale, { style: 'unit', unit: units[index], maximumFractionDigits: 1 }).format(value);
}

/** A file size: `500 bytes`, `12.3 MB`, `1.5 GB` (pt-BR `1,5 GB`); `—` for a value that is not a size. */
export function formatBytes(bytes, locale) {
  if (!isAmount(bytes)) return NONE;
  if (bytes < 1000) {
    // "byte" in full: the short forms read oddly ("500 byte" in English, "1 bytes" in Portuguese).
    return new Intl.NumberFormat(locale, { style: 'unit', unit: 'byte', unitDisplay: 'long', maximumFractionDigits: 0 }).format(bytes);
  }
  return scaled(bytes, SIZE_UNITS, locale);
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * A size in binary units, for amounts set in them (the user's limits are whole GiB, so they read
 * round): `200 GiB`, `12.3 GiB` (pt-BR `12,3 GiB`), `0 B`; `—` for a value that is not a size.
 */
export function formatBinaryBytes(bytes, locale) {
  if (!isAmount(bytes)) return NONE;
  let value = bytes;
  let index = 0;
  while (index < BINARY_UNITS.length - 1 && Math.round(value * 10) / 10 >= 1024) {
    value /= 1024;
    index += 1;
  }
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(value)}\u00a0${BINARY_UNITS[index]}`;
}

/** A count in the page's language: `1,000` (pt-BR `1.000`); `—` for a value that is not a count. */
export function formatCount(value, locale) {
  if (!isAmount(value)) return NONE;
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(value);
}

/** A transfer speed from kB/s up: `12.3 MB/s` (pt-BR `12,3 MB/s`); `—` when unknown. */
export function formatSpeed(bytesPerSecond, locale) {
  if (!isAmount(bytesPerSecond)) return NONE;
  return scaled(bytesPerSecond, SPEED_UNITS, locale);
}

/** A clock-style duration or position: `0:20`, `4:05`, `1:02:03`; `—` when unknown. */
export function formatDuration(seconds, locale) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return NONE;
  const whole = Math.floor(Math.max(0, seconds));
  const lead = new Intl.NumberFormat(locale, { useGrouping: false });
  const pair = new Intl.NumberFormat(locale, { useGrouping: false, minimumIntegerDigits: 2 });
  const hours = Math.floor(whole / 3600), minutes = Math.floor(whole / 60) % 60, rest = whole % 60;
  return hours > 0
    ? `${lead.format(hours)}:${pair.format(minutes)}:${pair.format(rest)}`
    : `${lead.format(minutes)}:${pair.format(rest)}`;
}

/**
 * Time left in words, rounded up: under a minute in seconds by fives (`45 seconds`), under two hours
 * in minutes (`3 minutes`), else in hours to a tenth (`2.5 hours`; pt-BR `45 segundos`, `2,5 horas`).
 * Null when it cannot be known (no speed yet, or nothing moving).
 */
export function formatTimeLeft(seconds, locale) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return null;
  const words = (value, unit) => new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long', maximumFractionDigits: 1 }).format(value);
  const fives = Math.ceil(seconds / 5) * 5;
  if (fives < 60) return words(fives, 'second');
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120) return words(minutes, 'minute');
  return words(Math.ceil(seconds / 360) / 10, 'hour');
}

/** A date and time, medium date and short time (`Mar 5, 2024, 2:07 PM`; pt-BR `5 de mar. de 2024, 14:07`); `—` when invalid. */
export function formatDate(iso, locale, { timeZone } = {}) {
  const date = new Date(iso ?? NaN);
  if (Number.isNaN(date.getTime())) return NONE;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(date);
}
