// What the CSV and JSONL fuzzers check on every input: the text is read as a file of each table
// that `propgrade import` takes, with and without allow_empty. A rejected file gets an
// InvalidArgument naming the file and a line within it; an accepted file gives one cell per
// column, each of its column's type and range (canonical dates and timestamps, finite reals,
// text without control characters, required cells set), and its rows come back unchanged
// through a CSV and a JSONL export and re-import. Violations abort. Thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "schema/schema.h"
#include "io/table_file.h"

namespace propgrade::fuzz {

// The tables `propgrade import` reads (predictions, actuals, injuries, archetypes, accuracy).
const std::vector<const TableDef*>& ImportTables();

// Reads `text` as `format` for every import table and checks the invariants above.
void CheckTableText(std::string_view text, FileFormat format);

}  // namespace propgrade::fuzz
