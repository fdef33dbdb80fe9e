// A user's limits in words: the library's meters of usage against each limit, and the message of an
// upload the API refused over one, in both languages, with the page's real strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { translator } from '../../assets/js/i18n.js';
import { usageMeters, refusalMessage, monthName, formatAmount } from '../../assets/js/limits.js';

// ICU versions differ in the space they put before units (U+0020, U+00A0 or U+202F).
const plain = (text) => text.replace(/[\u00a0\u202f]/g, ' ');

function pageOf(lang) {
  const all = JSON.parse(readFileSync(new URL(`../../site/i18n/${lang}.json`, import.meta.url), 'utf8')).script;
  const table = {};
  const walk = (object, prefix) => {
    for (const [key, value] of Object.entries(object)) {
      if (typeof value === 'string') table[prefix + key] = value;
      else walk(value, `${prefix}${key}.`);
    }
  };
  walk(all, '');
  return { t: translator(table), lang: lang === 'pt-BR' ? 'pt-BR' : 'en' };
}
const pt = pageOf('pt-BR');
const en = pageOf('en');

const GiB = 2 ** 30;
const answer = {
  usage: { storedBytes: 12.3 * GiB, videos: 14, convertedMinutes: 35, month: '2026-12' },
  limits: { storedBytes: 200 * GiB, videos: 1000, fileBytes: 50 * GiB, convertedMinutesPerMonth: 600 },
};

test('the library shows storage, videos and this month\'s minutes against their limits, in words', () => {
  const meters = usageMeters(answer, pt);
  assert.deepEqual(meters.map((m) => [m.id, m.label, plain(m.text), m.level]), [
    ['storedBytes', 'Armazenamento', '12,3 GiB de 200 GiB', 'ok'],
    ['videos', 'Vídeos', '14 de 1.000', 'ok'],
    ['convertedMinutes', 'Conversão no mês', '35 de 600 min em dezembro', 'ok'],
  ]);
  assert.deepEqual(meters.map((m) => [m.value, m.max]), [[12.3 * GiB, 200 * GiB], [14, 1000], [35, 600]]);
  assert.deepEqual(meters.slice(1).map((m) => [m.low, m.high]), [[900, 999.5], [540, 599.5]], 'near from 90 %, at the limit only when full');
  assert.deepEqual(usageMeters(answer, en).map((m) => plain(m.text)), ['12.3 GiB of 200 GiB', '14 of 1,000', '35 of 600 min in December']);
});

test('a limit near or reached is said in words, not by the meter\'s colour alone', () => {
  const near = { usage: { storedBytes: 198 * GiB, videos: 1000, convertedMinutes: 700, month: '2026-01' }, limits: answer.limits };
  const meters = usageMeters(near, en);
  assert.deepEqual(meters.map((m) => [m.level, plain(m.text)]), [
    ['near', '198 GiB of 200 GiB · almost at the limit'],
    ['full', '1,000 of 1,000 · limit reached'],
    ['full', '700 of 600 min in January · limit reached'],
  ]);
  assert.equal(meters[2].value, 600, 'a meter over its limit shows full');
  const none = usageMeters({ usage: { storedBytes: 0, videos: 0, convertedMinutes: 0 }, limits: { storedBytes: 0, videos: 5, convertedMinutesPerMonth: 10 } }, pt);
  assert.deepEqual(none.map((m) => [m.level, m.value, m.max]), [['full', 1, 1], ['ok', 0, 5], ['ok', 0, 10]]);
  assert.ok(none[0].value > none[0].high && none[0].low <= none[0].high, 'a limit of 0 is a meter at its limit');
  assert.equal(plain(none[0].text), '0 B de 0 B · limite atingido');
  assert.equal(plain(none[2].text), '0 de 10 min neste mês', 'without a month, "this month"');
});

test('an answer of another shape shows no meter rather than a wrong one', () => {
  assert.deepEqual(usageMeters(null, en), []);
  assert.deepEqual(usageMeters({ usage: {}, limits: {} }, en), []);
  assert.deepEqual(usageMeters({ usage: { videos: 'x', storedBytes: -1 }, limits: { videos: 3, storedBytes: 10 } }, en), []);
  assert.deepEqual(usageMeters({ usage: { videos: 2 }, limits: { videos: 3 } }, en).map((m) => m.id), ['videos']);
});

test('months are named in the page\'s language; anything else is not a month', () => {
  assert.equal(monthName('2026-12', 'pt-BR'), 'dezembro');
  assert.equal(monthName('2027-01', 'en'), 'January');
  for (const bad of ['2026-13', '2026-1', '', null, undefined, 'December']) assert.equal(monthName(bad, 'en'), null, String(bad));
});

test('a refused upload says which limit and by how much, in both languages', () => {
  const cases = [
    [{ limit: 'storedBytes', allowed: 200 * GiB, used: 198 * GiB, requested: 5 * GiB },
      'Este envio passaria do seu limite de armazenamento: 198 GiB usados de 200 GiB, e o arquivo tem 5 GiB.',
      'This upload would exceed your storage limit: 198 GiB of 200 GiB used, and the file is 5 GiB.'],
    [{ limit: 'videos', allowed: 1000, used: 1000, requested: 1 },
      'Este envio passaria do seu limite de vídeos: você já tem 1.000 de 1.000. Apague alguns na biblioteca para enviar mais.',
      'This upload would exceed your video limit: you have 1,000 of 1,000. Delete some from your library to upload more.'],
    [{ limit: 'fileBytes', allowed: 50 * GiB, used: 0, requested: 61.5 * GiB },
      'Este arquivo tem 61,5 GiB, mais que os 50 GiB que sua conta aceita em um arquivo.',
      'This file is 61.5 GiB, more than the 50 GiB your account takes in one file.'],
    [{ limit: 'convertedMinutes', allowed: 600, used: 600, requested: 1 },
      'Este envio passaria do limite de conversão deste mês: 600 de 600 min já convertidos.',
      'This upload would exceed this month’s conversion limit: 600 of 600 min already converted.'],
  ];
  for (const [details, inPortuguese, inEnglish] of cases) {
    assert.equal(plain(refusalMessage(details, pt)), inPortuguese);
    assert.equal(plain(refusalMessage(details, en)), inEnglish);
  }
});

test('a refusal over a limit this page does not know gets the general message', () => {
  assert.equal(refusalMessage({ limit: 'somethingNew', allowed: 1, used: 1 }, en), 'This upload would exceed one of your account’s limits.');
  assert.equal(refusalMessage(null, pt), 'Este envio passaria de um dos limites da sua conta.');
  assert.equal(refusalMessage({ limit: 'toString' }, en), 'This upload would exceed one of your account’s limits.');
});

test('bytes are sizes in binary units, as the limits are set, and everything else a count', () => {
  assert.equal(plain(formatAmount('fileBytes', 1.5 * GiB, 'pt-BR')), '1,5 GiB');
  assert.equal(plain(formatAmount('storedBytes', 200 * GiB, 'en')), '200 GiB');
  assert.equal(formatAmount('videos', 12345, 'pt-BR'), '12.345');
  assert.equal(formatAmount('convertedMinutes', 2.25, 'en'), '2.3');
});
