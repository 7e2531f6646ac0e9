// The chart checker's harness: named checks, counted (a failed one prints "not ok - NAME:
// why" and the run goes on), assertions, and JSON equality where key order never matters.
"use strict";

let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    fn();
    passed++;
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.message}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
// JSON with object keys sorted, so that key order never matters.
function canon(v) {
  if (Array.isArray(v)) return `[${v.map(canon).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(",")}}`;
  return JSON.stringify(v);
}
function eq(actual, expected, what) {
  const a = canon(actual);
  const b = canon(expected);
  if (a !== b) throw new Error(`${what}: expected ${b}, got ${a}`);
}
// The checks run so far.
function counts() {
  return { passed, failed };
}

module.exports = { check, assert, canon, eq, counts };
