#!/usr/bin/env node
// Benchmark of the browser's Cognito SRP client math (assets/js/cognito/srp.js) in node: one
// sign-in = startSession() (random a, A = g^a) + passwordClaim() (u, x, S, HKDF, signature)
// against the challenge data of the shared vector cases.
//
//   node bench/srp-node.mjs [runs]      (default 30 measured runs after 5 warm-up runs)
//
// Prints median/min/max wall-clock time of a whole sign-in, the split between the two calls, the
// CPU time per sign-in, the one-time cost of the first call (which builds the fixed-base table for
// g), and the machine's load average, since other work on the machine inflates wall-clock times.
// Exits with 1 when the median is over the target or a result does not match the vectors.
import { readFileSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

import * as srp from '../assets/js/cognito/srp.js';

const TARGET_MS = 60;
const WARMUP = 5;
const runs = Math.max(1, Number.parseInt(process.argv[2] ?? '30', 10) || 30);

const vectors = JSON.parse(
  readFileSync(new URL('../Tests/Vectors/srp/cognito-srp-vectors.json', import.meta.url), 'utf8')
);

function challenge(c) {
  return {
    poolName: srp.poolNameOf(c.userPoolId),
    userId: c.userIdForSrp,
    password: c.password,
    saltHex: c.saltHex,
    BHex: c.srpBHex,
    secretBlock: c.secretBlock,
  };
}

async function signIn(c, a) {
  const t0 = performance.now();
  const session = srp.startSession(a === undefined ? {} : { a });
  const t1 = performance.now();
  const result = await srp.passwordClaim({ session, ...challenge(c) });
  const t2 = performance.now();
  return { result, session: t1 - t0, claim: t2 - t1, total: t2 - t0 };
}

const stats = (values) => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
};
const ms = (v) => v.toFixed(2).padStart(7) + ' ms';
const line = (name, s) => console.log(`${name.padEnd(26)} median ${ms(s.median)}   min ${ms(s.min)}   max ${ms(s.max)}`);

console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

// The first sign-in in a fresh process: includes building the fixed-base table for g.
const cold = await signIn(vectors.cases[0]);
console.log(`first sign-in (cold, builds the g table): ${cold.total.toFixed(2)} ms ` +
  `(startSession ${cold.session.toFixed(2)} ms, passwordClaim ${cold.claim.toFixed(2)} ms)`);

// Correctness: with each case's own a the signature must be the vector's.
let ok = true;
for (const c of vectors.cases) {
  const session = srp.startSession({ a: BigInt('0x' + c.smallAHex) });
  const { signature } = await srp.passwordClaim({ session, ...challenge(c), date: new Date(c.timestamp) });
  if (session.AHex !== c.srpAHex || signature !== c.passwordClaimSignature) {
    ok = false;
    console.log(`MISMATCH for ${c.userPoolId} / ${c.userIdForSrp}`);
  }
}
console.log(`vector check: ${ok ? 'all ' + vectors.cases.length + ' cases match' : 'FAILED'}`);

for (let i = 0; i < WARMUP; i++) await signIn(vectors.cases[i % vectors.cases.length]);

const totals = [];
const sessions = [];
const claims = [];
const cpuStart = process.cpuUsage();
const wallStart = performance.now();
for (let i = 0; i < runs; i++) {
  const r = await signIn(vectors.cases[i % vectors.cases.length]);
  totals.push(r.total);
  sessions.push(r.session);
  claims.push(r.claim);
}
const wall = performance.now() - wallStart;
const cpu = process.cpuUsage(cpuStart);
const cpuPerRun = (cpu.user + cpu.system) / 1000 / runs;

console.log(`\n${runs} sign-ins after ${WARMUP} warm-up runs (fresh random a each):`);
const total = stats(totals);
line('startSession + passwordClaim', total);
line('  startSession', stats(sessions));
line('  passwordClaim', stats(claims));
console.log(`CPU time per sign-in: ${cpuPerRun.toFixed(2)} ms (wall ${(wall / runs).toFixed(2)} ms mean)`);
console.log(`load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

const pass = total.median < TARGET_MS;
console.log(`\ntarget: median < ${TARGET_MS} ms → ${pass ? 'PASS' : 'OVER'} (median ${total.median.toFixed(2)} ms)`);
if (!pass || !ok) process.exitCode = 1;
