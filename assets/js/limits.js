// A user's limits in words, in the page's language (`lang`, with the page's `t`): the library's
// meters of what is used against each limit (GET /videos/usage), and why the video API refused an
// upload (403 LimitExceeded, with `limit`, `allowed`, `used`, `requested`). Pure.
import { formatBinaryBytes, formatCount } from './format.js';

/** Share of a limit from which a meter says, in words, that the limit is near. */
export const NEAR = 0.9;

/** The limits the library shows, in order: the usage field, the limit field, the label's key. */
const METERS = [
  { usage: 'storedBytes', limit: 'storedBytes', key: 'library.usage.storedBytes' },
  { usage: 'videos', limit: 'videos', key: 'library.usage.videos' },
  { usage: 'convertedMinutes', limit: 'convertedMinutesPerMonth', key: 'library.usage.convertedMinutes' },
];

/** Why an upload was refused, one message per limit the API names. */
const REFUSALS = {
  storedBytes: { key: 'upload.limit.storedBytes' },
  videos: { key: 'upload.limit.videos' },
  fileBytes: { key: 'upload.limit.fileBytes' },
  convertedMinutes: { key: 'upload.limit.convertedMinutes' },
};

const isAmount = (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/**
 * An amount of `limit` in the page's language: bytes as a size in binary units (the limits are set
 * in whole GiB, and the API's own sentences say GiB), videos and minutes as counts.
 */
export function formatAmount(limit, value, lang) {
  return limit === 'storedBytes' || limit === 'fileBytes' ? formatBinaryBytes(value, lang) : formatCount(value, lang);
}

/** The month of `month` (`2026-12`) by name (`December`; pt-BR `dezembro`), or null when it is not one. */
export function monthName(month, lang) {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month ?? '')) return null;
  return new Intl.DateTimeFormat(lang, { month: 'long', timeZone: 'UTC' }).format(new Date(`${month}-01T00:00:00Z`));
}

/**
 * The library's meters for the API's usage answer (`{ usage, limits }`): for each limit both sides
 * give, `{ id, label, value, max, low, high, level, text }` — what a `<meter>` takes (a limit of 0
 * shows as full; past `low` it is near the limit, past `high` at it), `level` `full`, `near` or `ok`, and `text` what the meter says in words
 * ("12,3 GiB de 200 GiB", "35 de 600 min em dezembro", with "limit reached" or "almost at the limit"
 * when it is so, so the meter's colour is never the only sign). An answer of another shape gives [].
 */
export function usageMeters(answer, { t, lang }) {
  const usage = answer?.usage ?? {};
  const limits = answer?.limits ?? {};
  const month = monthName(usage.month, lang);
  const meters = [];
  for (const meter of METERS) {
    const used = usage[meter.usage];
    const allowed = limits[meter.limit];
    if (!isAmount(used) || !isAmount(allowed)) continue;
    const level = used >= allowed ? 'full' : used >= allowed * NEAR ? 'near' : 'ok';
    const values = { used: formatAmount(meter.usage, used, lang), allowed: formatAmount(meter.usage, allowed, lang), month };
    const amounts = meter.usage === 'convertedMinutes'
      ? (month ? t('library.usage.minutesIn', values) : t('library.usage.minutes', values))
      : t('library.usage.of', values);
    const state = level === 'full' ? t('library.usage.full') : level === 'near' ? t('library.usage.near') : null;
    const max = allowed > 0 ? allowed : 1;
    // The amounts are whole numbers, so only a meter at its limit is past half a unit below it.
    const high = max - 0.5;
    meters.push({
      id: meter.usage, label: t(meter.key), level, text: state ? `${amounts} · ${state}` : amounts,
      max, value: allowed > 0 ? Math.min(used, allowed) : 1, low: Math.min(max * NEAR, high), high,
    });
  }
  return meters;
}

/**
 * Why the API refused an upload, from the refusal's `{ limit, allowed, used, requested }`: which
 * limit and by how much ("This upload would exceed your storage limit: 198 GiB of 200 GiB used, and
 * the file is 5 GiB."). A limit this page does not know gets the general message.
 */
export function refusalMessage(details, { t, lang }) {
  const refusal = Object.hasOwn(REFUSALS, details?.limit ?? '') ? REFUSALS[details.limit] : null;
  if (!refusal) return t('upload.limit.other');
  const values = {};
  for (const field of ['allowed', 'used', 'requested']) {
    if (isAmount(details[field])) values[field] = formatAmount(details.limit, details[field], lang);
  }
  return t(refusal.key, values);
}
