// The declared table the tests of [tables.NAME] use: player_form_daily, partitioned by
// as_of_date, keyed by player_lookup, with the columns (as_of_date date, player_lookup text
// required, form real); a test appends what else it needs. Tests only.
#pragma once

#include "schema/schema.h"

namespace propgrade::testing {

inline TableDeclaration PlayerFormDaily() {
  TableDeclaration d;
  d.name = "player_form_daily";
  d.partition_column = "as_of_date";
  d.key = {"player_lookup"};
  d.columns = {{"as_of_date", ColumnType::kDate, false},
               {"player_lookup", ColumnType::kText, true},
               {"form", ColumnType::kReal, false}};
  return d;
}

}  // namespace propgrade::testing
