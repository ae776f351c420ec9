// Decimal rounding of doubles as their shortest round-trip text reads (spec/grading.md §7.9),
// shared by the grading rules and the business keys of the schema. Pure; thread-safe.
#pragma once

namespace propgrade {

// Rounds the shortest round-trip decimal text of `v` to `places` decimals, half away from zero
// (2.675 → 2.68, -2.675 → -2.68, 0.3 → 0.3); −0.0 becomes 0.0 (grading.md §7.9).
double RoundHalfAway(double v, int places);
// The same rounding done on the decimal text itself, always: RoundHalfAway takes an arithmetic
// path away from ties and must agree with this (a test checks it).
double RoundShortestDecimal(double v, int places);

}  // namespace propgrade
