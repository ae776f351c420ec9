// RowCodec (module-internal): a partition's rows as one text cell of partition_history and
// back, exactly (every value, type and NULL as stored): a compact binary form of the cells,
// compressed with zstd (level 1) and written as base64. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "common/value.h"
#include "schema/schema.h"

namespace propgrade {

// The codec name recorded beside the text (partition_history.codec).
inline constexpr const char* kRowCodecName = "rows1+zstd+base64";
// A write that found the rows it was to write (beyond stamps) and left them: it replaced
// nothing, and partition_history keeps no rows for it.
inline constexpr const char* kSameRowsCodec = "same";

std::string EncodeRows(const std::vector<Row>& rows);
// The inverse of EncodeRows for rows of `table` (DataLoss when the text is not such rows or
// their width is not the table's).
StatusOr<std::vector<Row>> DecodeRows(const TableDef& table, std::string_view text);

}  // namespace propgrade
