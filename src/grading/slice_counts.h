// SliceCounts: the exact integer tallies behind every aggregate rate and mean of
// spec/grading.md §4 and §5.4, accumulated one AccuracyFact at a time. Voided rows count only
// in `total` and `voided` (§7.10). Plain value; thread-compatible.
#pragma once

#include <cstdint>

#include "grading/facts.h"

namespace propgrade::grading {

struct SliceCounts {
  int64_t total = 0;
  int64_t voided = 0;
  int64_t over = 0, under = 0, pass_like = 0;  // non-voided recommendations
  int64_t correct = 0, incorrect = 0, pushes = 0;
  int64_t over_correct = 0, over_incorrect = 0, under_correct = 0, under_incorrect = 0;
  int64_t err_count = 0;  // non-voided rows with an error
  int64_t abs_sum_e2 = 0, signed_sum_e2 = 0;
  int64_t within3 = 0, within5 = 0;
  int64_t conf_count = 0, conf_sum_e4 = 0;
  int64_t high_conf = 0, high_conf_correct = 0, high_conf_incorrect = 0;  // stored conf ≥ 0.70
  int64_t actionable_correct = 0, actionable_incorrect = 0;

  void Add(const AccuracyFact& f) {
    ++total;
    if (f.voided) {
      ++voided;
      return;
    }
    bool is_over = f.rec == RecClass::kOver, is_under = f.rec == RecClass::kUnder;
    over += is_over;
    under += is_under;
    pass_like += f.rec == RecClass::kPassLike;
    pushes += f.push;
    if (f.correct >= 0) {
      bool hit = f.correct == 1;
      (hit ? correct : incorrect)++;
      if (is_over) (hit ? over_correct : over_incorrect)++;
      if (is_under) (hit ? under_correct : under_incorrect)++;
      if (f.actionable) (hit ? actionable_correct : actionable_incorrect)++;
      if (f.confidence_e4 >= 7000) (hit ? high_conf_correct : high_conf_incorrect)++;
    }
    if (f.abs_error_e2 != kNullError) {
      ++err_count;
      abs_sum_e2 += f.abs_error_e2;
      signed_sum_e2 += f.signed_error_e2 == kNullError ? 0 : f.signed_error_e2;
      within3 += f.within3;
      within5 += f.within5;
    }
    if (f.confidence_e4 >= 0) {
      ++conf_count;
      conf_sum_e4 += f.confidence_e4;
      high_conf += f.confidence_e4 >= 7000;
    }
  }
};

}  // namespace propgrade::grading
