import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatBinaryBytes, formatCount, formatSpeed, formatDuration, formatTimeLeft, formatDate } from '../../assets/js/format.js';

// ICU versions differ in the space they put before units and AM/PM (U+0020, U+00A0 or U+202F).
const plain = (text) => (typeof text === 'string' ? text.replace(/[\u00a0\u202f]/g, ' ') : text);

/** Asserts `format(value, locale)` for each `[value, en, pt-BR]` row. */
function table(format, rows) {
  for (const [value, en, pt] of rows) {
    assert.equal(plain(format(value, 'en')), en, `en ${value}`);
    assert.equal(plain(format(value, 'pt-BR')), pt, `pt-BR ${value}`);
  }
}

test('sizes are in SI units with one decimal at most, and whole bytes in words', () => {
  table(formatBytes, [
    [0, '0 bytes', '0 byte'],
    [1, '1 byte', '1 byte'],
    [999, '999 bytes', '999 bytes'],
    [1000, '1 kB', '1 kB'],
    [1500, '1.5 kB', '1,5 kB'],
    [999_949, '999.9 kB', '999,9 kB'],
    [12_345_678, '12.3 MB', '12,3 MB'],
    [1_500_000_000, '1.5 GB', '1,5 GB'],
    [5_497_558_138_880, '5.5 TB', '5,5 TB'],
    [12_345_678_900_000_000, '12,345.7 TB', '12.345,7 TB'],
  ]);
});

test('a size that rounds up to 1000 of a unit is shown in the next one', () => {
  table(formatBytes, [
    [999_960, '1 MB', '1 MB'],
    [999_999_999, '1 GB', '1 GB'],
  ]);
});

test('a size that is not one shows a dash', () => {
  for (const value of [null, undefined, NaN, -1, Infinity, '12']) assert.equal(formatBytes(value, 'en'), '—');
});

test('counts are grouped in the page\'s language; a value that is not one shows a dash', () => {
  table(formatCount, [[0, '0', '0'], [14, '14', '14'], [1000, '1,000', '1.000'], [1234567, '1,234,567', '1.234.567'], [2.5, '2.5', '2,5']]);
  for (const bad of [-1, NaN, Infinity, '5', null, undefined]) assert.equal(formatCount(bad, 'en'), '—');
});

test('binary sizes move up at 1024 of a unit, one decimal at most', () => {
  table(formatBinaryBytes, [
    [0, '0 B', '0 B'], [500, '500 B', '500 B'], [1023.96, '1 KiB', '1 KiB'], [1024, '1 KiB', '1 KiB'], [1536, '1.5 KiB', '1,5 KiB'], [5 * 2 ** 20, '5 MiB', '5 MiB'],
    [200 * 2 ** 30, '200 GiB', '200 GiB'], [12.34 * 2 ** 30, '12.3 GiB', '12,3 GiB'], [2 ** 30 - 1, '1 GiB', '1 GiB'],
    [1536 * 2 ** 30, '1.5 TiB', '1,5 TiB'],
  ]);
  for (const bad of [-1, NaN, '5', null]) assert.equal(formatBinaryBytes(bad, 'en'), '—');
});

test('speeds are per second, from kB/s up', () => {
  table(formatSpeed, [
    [0, '0 kB/s', '0 kB/s'],
    [500, '0.5 kB/s', '0,5 kB/s'],
    [12_345_678, '12.3 MB/s', '12,3 MB/s'],
    [999_999, '1 MB/s', '1 MB/s'],
    [2_500_000_000, '2.5 GB/s', '2,5 GB/s'],
  ]);
  assert.equal(formatSpeed(null, 'en'), '—');
  assert.equal(formatSpeed(NaN, 'pt-BR'), '—');
});

test('durations read like a clock, hours only when there are some', () => {
  table(formatDuration, [
    [0, '0:00', '0:00'],
    [20, '0:20', '0:20'],
    [20.9, '0:20', '0:20'],
    [245, '4:05', '4:05'],
    [3723, '1:02:03', '1:02:03'],
    [36_000, '10:00:00', '10:00:00'],
    [-3, '0:00', '0:00'],
  ]);
  for (const value of [null, undefined, NaN, Infinity]) assert.equal(formatDuration(value, 'en'), '—');
});

test('durations use the locale\'s digits', () => {
  assert.equal(formatDuration(3723, 'ar-EG'), '١:٠٢:٠٣');
});

test('time left is rounded up: seconds by fives under a minute, minutes under two hours, then hours', () => {
  table(formatTimeLeft, [
    [0, '0 seconds', '0 segundo'],
    [0.2, '5 seconds', '5 segundos'],
    [44, '45 seconds', '45 segundos'],
    [55, '55 seconds', '55 segundos'],
    [56, '1 minute', '1 minuto'],
    [61, '2 minutes', '2 minutos'],
    [180, '3 minutes', '3 minutos'],
    [7140, '119 minutes', '119 minutos'],
    [7199, '2 hours', '2 horas'],
    [7200, '2 hours', '2 horas'],
    [7201, '2.1 hours', '2,1 horas'],
    [9000, '2.5 hours', '2,5 horas'],
    [36_000, '10 hours', '10 horas'],
  ]);
});

test('time left that cannot be known is null', () => {
  for (const value of [Infinity, null, undefined, NaN, -1]) {
    assert.equal(formatTimeLeft(value, 'en'), null);
    assert.equal(formatTimeLeft(value, 'pt-BR'), null);
  }
});

test('dates are medium date and short time, in the given time zone', () => {
  const iso = '2024-03-05T14:07:00Z';
  assert.equal(plain(formatDate(iso, 'en', { timeZone: 'UTC' })), 'Mar 5, 2024, 2:07 PM');
  assert.equal(plain(formatDate(iso, 'pt-BR', { timeZone: 'UTC' })), '5 de mar. de 2024, 14:07');
  assert.equal(plain(formatDate(iso, 'pt-BR', { timeZone: 'America/Sao_Paulo' })), '5 de mar. de 2024, 11:07');
  assert.equal(plain(formatDate(Date.parse(iso), 'en', { timeZone: 'UTC' })), 'Mar 5, 2024, 2:07 PM');
  for (const value of ['not a date', null, undefined]) assert.equal(formatDate(value, 'en'), '—');
});
