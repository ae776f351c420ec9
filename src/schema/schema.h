// The schema: propgrade's public tables as data (names, columns in export order, types, which
// columns an import requires, the partition column) with the policies every module reads from
// them instead of naming tables: the business key, which of two rows sharing it wins, the
// value ranges an import enforces, the processor that writes it. Table and column
// names are public interface (spec/grading.md, spec/operations.md §10): do not rename.
// Every table's column order is defined once, by the X-lists below, which also give the
// column positions (e.g. `acc::line_value`) that code uses to read a Row.
// Immutable after start-up; thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace propgrade {

enum class ColumnType { kText, kInteger, kReal, kBool, kDate, kTimestamp };
std::string_view ColumnTypeName(ColumnType t);  // "text", "integer", ...

struct ColumnDef {
  std::string name;
  ColumnType type;
  bool required;  // an import must give a non-empty value
};

// One column of a business key; a real column may be compared rounded to `round_places`
// decimals (half away from zero, as grading.md §7.9), -1 to compare it as stored.
struct KeyPart {
  std::string column;
  int round_places = -1;
};

// Which of two rows with one business key stays: the one whose `time_column` is the latest
// (or the earliest), ties going to the greater `tie_column` (when set; otherwise storage
// order decides: the earlier row stays).
struct WinnerRule {
  std::string time_column;
  bool latest = true;
  std::string tie_column;
};

// An import refuses a number in `column` outside [min, max] (max unset: unbounded), naming
// it by `label` ("points must be between 0 and 200"). `minutes_text` also accepts `MM:SS`.
struct ValueRange {
  std::string column;
  double min = 0;
  std::optional<double> max;
  std::string label;
  bool minutes_text = false;
};

struct TableDef {
  std::string name;
  std::vector<ColumnDef> columns;
  // The column a partition is selected by (game_date, as_of_date, ...); empty when none.
  std::string partition_column;
  // The stored unique key (the unique index; imports upsert on it).
  std::vector<std::string> key_columns;
  // The business key: rows agreeing on these (NULLs equal) are duplicates. The stored key
  // unless a table says otherwise (predictions: grading.md §2's key, the line to 2 places).
  std::vector<KeyPart> business_key;
  // Which duplicate stays (dedupe, consolidation, grading's source de-duplication); unset when
  // the table's duplicates cannot be resolved by a rule.
  std::optional<WinnerRule> winner;
  // The ranges an import enforces.
  std::vector<ValueRange> ranges;
  // True for grading outputs, whose unique index follows `enforce_unique_keys`; input and
  // system tables always keep their key unique (imports upsert on it).
  bool key_uniqueness_configurable = false;
  // The first column is an `id` the database assigns (INTEGER PRIMARY KEY / identity).
  bool generated_id = false;
  // The processor whose lock keys writes of a partition (`<writer>/<partition>`): grading,
  // daily_performance, performance_summary, consolidation; empty when none writes it.
  std::string writer;
  // Writes record each changed partition's version in partition_versions (the input and output
  // tables of grading, which later writes are fenced on); system tables do not.
  bool versioned = false;
  // More (non-unique) indexes, each a list of columns.
  std::vector<std::vector<std::string>> extra_indexes;
  // Column aliases accepted in import headers: {alias, column}.
  std::vector<std::pair<std::string, std::string>> import_aliases;
  // Columns every write stamps anew (run_id, graded_at, computed_at, fence_token): a row that
  // differs only in them is unchanged (keys_changed, `propgrade diff`). A `fence_token` among
  // them is set by the store to the token of the write that stores the row (row lineage).
  std::vector<std::string> stamp_columns;
  // A table the configuration declares ([tables.NAME]) rather than a built-in one.
  bool declared = false;
  // Whether propgrade creates the table and adds the columns it lacks (built-in tables, and
  // declared ones with manage_schema = true); false: the user owns the DDL and propgrade adds
  // only the unique key index.
  bool manage_schema = true;

  int ColumnIndex(std::string_view column) const;  // -1 when absent
  int PartitionIndex() const { return ColumnIndex(partition_column); }
  std::vector<int> KeyIndexes() const;
  // True when the business key is the stored key, compared as stored (then the database's
  // own GROUP BY finds duplicates).
  bool BusinessKeyIsStoredKey() const;
};

// A table's business key with its columns resolved once, for keying many rows. Holds a
// reference to `table`, which must outlive it. Immutable; thread-safe.
class BusinessKey {
 public:
  explicit BusinessKey(const TableDef& table);
  // The key of `row` (a row of the table) as one string: equal exactly when the rows are
  // duplicates. Not for display: a rounded real is encoded as the bytes of its rounded value.
  // Cells are separated by \x1f; NULL encodes apart from every text.
  std::string Of(const Row& row) const;
  // The key's cells as a reader sees them ("2026-01-15|lebron_james|...|25.5", NULL as "NULL").
  std::string TextOf(const Row& row) const;

 private:
  const TableDef& table_;
  std::vector<int> indexes_;  // of table_.business_key's columns
};

// Does `a` replace `b` as the kept row of their key under `rule`, `b` being the row kept so far
// (earlier in storage order)? A full tie keeps `b`. `latest` overrides the rule's direction
// (dedupe --keep); with it the tie column is not used.
bool Newer(const WinnerRule& rule, const TableDef& table, const Row& a, const Row& b,
           std::optional<bool> latest = std::nullopt);
// Under the table's winner rule; the table must have one.
bool Newer(const TableDef& table, const Row& a, const Row& b);

// ---- Column lists: X(name, type, required_on_import) ----

#define PG_PREDICTION_COLUMNS(X)               \
  X(prediction_id, kText, true)                \
  X(game_date, kDate, true)                    \
  X(game_id, kText, true)                      \
  X(player_lookup, kText, true)                \
  X(system_id, kText, true)                    \
  X(predicted_points, kReal, false)            \
  X(confidence_score, kReal, false)            \
  X(recommendation, kText, false)              \
  X(line_value, kReal, false)                  \
  X(line_source, kText, false)                 \
  X(has_prop_line, kBool, false)               \
  X(estimated_line_value, kReal, false)        \
  X(pace_adjustment, kReal, false)             \
  X(similar_games_count, kInteger, false)      \
  X(model_version, kText, false)               \
  X(is_active, kBool, false)                   \
  X(is_actionable, kBool, false)               \
  X(filter_reason, kText, false)               \
  X(injury_status_at_prediction, kText, false) \
  X(injury_flag_at_prediction, kBool, false)   \
  X(invalidation_reason, kText, false)         \
  X(created_at, kTimestamp, true)

#define PG_ACTUAL_COLUMNS(X)          \
  X(game_date, kDate, true)           \
  X(game_id, kText, true)             \
  X(player_lookup, kText, true)       \
  X(team_abbr, kText, false)          \
  X(opponent_team_abbr, kText, false) \
  X(points, kInteger, false)          \
  X(minutes_played, kReal, false)     \
  X(is_dnp, kBool, false)             \
  X(dnp_reason, kText, false)

#define PG_INJURY_COLUMNS(X)     \
  X(game_date, kDate, true)      \
  X(game_id, kText, false)       \
  X(player_lookup, kText, true)  \
  X(injury_status, kText, false) \
  X(reason, kText, false)        \
  X(reported_at, kTimestamp, true)

#define PG_ARCHETYPE_COLUMNS(X) \
  X(player_lookup, kText, true) \
  X(archetype, kText, false)

#define PG_ACCURACY_COLUMNS(X)               \
  X(prediction_id, kText, true)              \
  X(player_lookup, kText, true)              \
  X(game_id, kText, true)                    \
  X(game_date, kDate, true)                  \
  X(system_id, kText, true)                  \
  X(team_abbr, kText, false)                 \
  X(opponent_team_abbr, kText, false)        \
  X(predicted_points, kReal, false)          \
  X(confidence_score, kReal, false)          \
  X(confidence_decile, kInteger, false)      \
  X(recommendation, kText, false)            \
  X(line_value, kReal, false)                \
  X(line_source, kText, false)               \
  X(has_prop_line, kBool, false)             \
  X(estimated_line_value, kReal, false)      \
  X(pace_adjustment, kReal, false)           \
  X(similarity_sample_size, kInteger, false) \
  X(model_version, kText, false)             \
  X(is_actionable, kBool, false)             \
  X(filter_reason, kText, false)             \
  X(actual_points, kInteger, false)          \
  X(minutes_played, kReal, false)            \
  X(absolute_error, kReal, false)            \
  X(signed_error, kReal, false)              \
  X(prediction_correct, kBool, false)        \
  X(predicted_margin, kReal, false)          \
  X(actual_margin, kReal, false)             \
  X(within_3_points, kBool, false)           \
  X(within_5_points, kBool, false)           \
  X(is_push, kBool, false)                   \
  X(is_voided, kBool, false)                 \
  X(void_reason, kText, false)               \
  X(pre_game_injury_flag, kBool, false)      \
  X(pre_game_injury_status, kText, false)    \
  X(injury_confirmed_postgame, kBool, false) \
  X(graded_at, kTimestamp, false)            \
  X(run_id, kText, false)                    \
  X(fence_token, kInteger, false)

#define PG_DAILY_COLUMNS(X)                   \
  X(game_date, kDate, true)                   \
  X(system_id, kText, true)                   \
  X(predictions_count, kInteger, false)       \
  X(voided_count, kInteger, false)            \
  X(recommendations_count, kInteger, false)   \
  X(correct_count, kInteger, false)           \
  X(incorrect_count, kInteger, false)         \
  X(push_count, kInteger, false)              \
  X(pass_count, kInteger, false)              \
  X(win_rate, kReal, false)                   \
  X(mae, kReal, false)                        \
  X(avg_bias, kReal, false)                   \
  X(over_count, kInteger, false)              \
  X(over_correct, kInteger, false)            \
  X(over_win_rate, kReal, false)              \
  X(under_count, kInteger, false)             \
  X(under_correct, kInteger, false)           \
  X(under_win_rate, kReal, false)             \
  X(within_3_count, kInteger, false)          \
  X(within_3_pct, kReal, false)               \
  X(within_5_count, kInteger, false)          \
  X(within_5_pct, kReal, false)               \
  X(avg_confidence, kReal, false)             \
  X(high_confidence_count, kInteger, false)   \
  X(high_confidence_correct, kInteger, false) \
  X(high_confidence_win_rate, kReal, false)   \
  X(actionable_win_rate, kReal, false)        \
  X(computed_at, kTimestamp, false)           \
  X(run_id, kText, false)                     \
  X(fence_token, kInteger, false)

#define PG_SUMMARY_COLUMNS(X)               \
  X(as_of_date, kDate, true)                \
  X(summary_key, kText, true)               \
  X(system_id, kText, true)                 \
  X(period_type, kText, true)               \
  X(period_value, kText, true)              \
  X(period_start_date, kDate, false)        \
  X(period_end_date, kDate, false)          \
  X(player_lookup, kText, false)            \
  X(archetype, kText, false)                \
  X(confidence_tier, kText, false)          \
  X(situation, kText, false)                \
  X(total_predictions, kInteger, false)     \
  X(total_recommendations, kInteger, false) \
  X(over_recommendations, kInteger, false)  \
  X(under_recommendations, kInteger, false) \
  X(pass_recommendations, kInteger, false)  \
  X(hits, kInteger, false)                  \
  X(misses, kInteger, false)                \
  X(hit_rate, kReal, false)                 \
  X(over_hit_rate, kReal, false)            \
  X(under_hit_rate, kReal, false)           \
  X(mae, kReal, false)                      \
  X(avg_bias, kReal, false)                 \
  X(within_3_pct, kReal, false)             \
  X(within_5_pct, kReal, false)             \
  X(avg_confidence, kReal, false)           \
  X(unique_players, kInteger, false)        \
  X(unique_games, kInteger, false)          \
  X(data_hash, kText, false)                \
  X(computed_at, kTimestamp, false)         \
  X(run_id, kText, false)                   \
  X(fence_token, kInteger, false)

// One row per processor step of a run (operations.md §10).
#define PG_RUN_COLUMNS(X)                     \
  X(run_id, kText, true)                      \
  X(processor, kText, true)                   \
  X(partition, kText, false)                  \
  X(game_date, kDate, false)                  \
  X(status, kText, true)                      \
  X(started_at, kTimestamp, false)            \
  X(finished_at, kTimestamp, false)           \
  X(predictions_found, kInteger, false)       \
  X(source_duplicates, kInteger, false)       \
  X(actuals_found, kInteger, false)           \
  X(missing_actuals, kInteger, false)         \
  X(graded, kInteger, false)                  \
  X(voided, kInteger, false)                  \
  X(voided_injury, kInteger, false)           \
  X(voided_scratch, kInteger, false)          \
  X(voided_unknown, kInteger, false)          \
  X(pushes, kInteger, false)                  \
  X(invalid_recommendations, kInteger, false) \
  X(invalid_confidence, kInteger, false)      \
  X(mae, kReal, false)                        \
  X(bias, kReal, false)                       \
  X(recommendation_accuracy, kReal, false)    \
  X(rows_written, kInteger, false)            \
  X(duplicate_groups, kInteger, false)        \
  X(duplicate_rows, kInteger, false)          \
  X(fence_token, kInteger, false)             \
  X(lock_backend, kText, false)               \
  X(lock_wait_seconds, kReal, false)          \
  X(holder_id, kText, false)                  \
  X(trigger_source, kText, false)             \
  X(correlation_id, kText, false)             \
  X(duration_seconds, kReal, false)           \
  X(error, kText, false)                      \
  X(player_coverage, kReal, false)            \
  X(game_coverage, kReal, false)              \
  X(rows_before, kInteger, false)             \
  X(rows_after, kInteger, false)              \
  X(keys_added, kInteger, false)              \
  X(keys_removed, kInteger, false)            \
  X(keys_changed, kInteger, false)

#define PG_FENCE_COLUMNS(X)      \
  X(lock_namespace, kText, true) \
  X(table_name, kText, true)     \
  X(partition, kText, true)      \
  X(token, kInteger, false)      \
  X(run_id, kText, false)        \
  X(written_at, kTimestamp, false)

// One row per partition of any table whose rows a write changed (imports, replaces,
// consolidation, remediation): `version` comes from one database-wide counter, so a later change
// has a greater version. Readers note the versions of their inputs before reading them; a write
// derived from them is refused when they changed (input fencing). Unpartitioned tables use ''.
#define PG_VERSION_COLUMNS(X)      \
  X(table_name, kText, true)       \
  X(partition, kText, true)        \
  X(version, kInteger, true)       \
  X(changed_at, kTimestamp, false) \
  X(run_id, kText, false)

// The db lock backend's lease table. A released lock keeps its row (holder NULL) so the
// key's token keeps increasing.
#define PG_LOCK_COLUMNS(X)          \
  X(key, kText, true)               \
  X(holder_id, kText, false)        \
  X(token, kInteger, true)          \
  X(acquired_at, kTimestamp, false) \
  X(expires_at, kTimestamp, false)  \
  X(renewed_at, kTimestamp, false)

#define PG_LOCK_EVENT_COLUMNS(X) \
  X(id, kInteger, false)         \
  X(at, kTimestamp, true)        \
  X(key, kText, true)            \
  X(event, kText, true)          \
  X(holder_id, kText, false)     \
  X(token, kInteger, false)      \
  X(wait_seconds, kReal, false)  \
  X(hold_seconds, kReal, false)  \
  X(detail, kText, false)

// Detection and response (DESIGN.md layers 2 and 3).
#define PG_AUDIT_COLUMNS(X)        \
  X(id, kInteger, false)           \
  X(detected_at, kTimestamp, true) \
  X(table_name, kText, true)       \
  X(partition, kText, false)       \
  X(key_json, kText, true)         \
  X(occurrences, kInteger, true)   \
  X(run_id, kText, false)          \
  X(sample_json, kText, false)

#define PG_QUARANTINE_COLUMNS(X)      \
  X(id, kInteger, false)              \
  X(quarantined_at, kTimestamp, true) \
  X(table_name, kText, true)          \
  X(partition, kText, false)          \
  X(reason, kText, true)              \
  X(run_id, kText, false)             \
  X(row_json, kText, true)

// Partition history: one row per replace of a partition (the run, its token and counts), holding
// the rows it replaced (RowCodec text), so the versions a partition had can be listed, diffed
// and rolled back to. `subject` is "<table>/<partition>".
#define PG_HISTORY_COLUMNS(X)      \
  X(id, kInteger, false)           \
  X(subject, kText, true)          \
  X(table_name, kText, true)       \
  X(partition, kText, true)        \
  X(run_id, kText, true)           \
  X(kind, kText, true)             \
  X(fence_token, kInteger, false)  \
  X(lock_namespace, kText, false)  \
  X(written_at, kTimestamp, true)  \
  X(rows_before, kInteger, false)  \
  X(rows_after, kInteger, false)   \
  X(keys_added, kInteger, false)   \
  X(keys_removed, kInteger, false) \
  X(keys_changed, kInteger, false) \
  X(codec, kText, false)           \
  X(replaced_rows, kText, false)

#define PG_ALERT_COLUMNS(X)        \
  X(id, kInteger, false)           \
  X(at, kTimestamp, true)          \
  X(type, kText, true)             \
  X(severity, kText, true)         \
  X(subject, kText, true)          \
  X(table_name, kText, false)      \
  X(partition, kText, false)       \
  X(summary, kText, true)          \
  X(fields_json, kText, false)     \
  X(delivered, kBool, false)       \
  X(attempts, kInteger, false)     \
  X(folded_count, kInteger, false) \
  X(sent_at, kTimestamp, false)

#define PG_BREAKER_COLUMNS(X)              \
  X(name, kText, true)                     \
  X(state, kText, true)                    \
  X(consecutive_failures, kInteger, false) \
  X(opened_at, kTimestamp, false)          \
  X(updated_at, kTimestamp, false)

#define PG_CHECK_COLUMNS(X)       \
  X(checked_at, kTimestamp, true) \
  X(name, kText, true)            \
  X(status, kText, true)          \
  X(value, kReal, false)          \
  X(threshold, kText, false)      \
  X(details_json, kText, false)

// prediction_staging: a batch id and its time, then the columns of player_prop_predictions.
#define PG_STAGING_COLUMNS(X)    \
  X(batch_id, kText, true)       \
  X(staged_at, kTimestamp, true) \
  PG_PREDICTION_COLUMNS(X)

#define PG_COLUMN_ENUM_ENTRY_(name, type, required) name,
namespace pred {
enum Column : int { PG_PREDICTION_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace act {
enum Column : int { PG_ACTUAL_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace inj {
enum Column : int { PG_INJURY_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace arch {
enum Column : int { PG_ARCHETYPE_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace acc {
enum Column : int { PG_ACCURACY_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace daily {
enum Column : int { PG_DAILY_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace summ {
enum Column : int { PG_SUMMARY_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace runs {
enum Column : int { PG_RUN_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace fence {
enum Column : int { PG_FENCE_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace pver {
enum Column : int { PG_VERSION_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace lockrow {
enum Column : int { PG_LOCK_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace lockev {
enum Column : int { PG_LOCK_EVENT_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace audit {
enum Column : int { PG_AUDIT_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace quar {
enum Column : int { PG_QUARANTINE_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace hist {
enum Column : int { PG_HISTORY_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace alertcol {
enum Column : int { PG_ALERT_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace breakercol {
enum Column : int { PG_BREAKER_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
namespace checkcol {
enum Column : int { PG_CHECK_COLUMNS(PG_COLUMN_ENUM_ENTRY_) kNumColumns };
}
// prediction_staging: stage::batch_id, stage::staged_at, then pred::X at stage::kPred + pred::X.
namespace stage {
enum Column : int { batch_id, staged_at, kPred, kNumColumns = kPred + pred::kNumColumns };
}
#undef PG_COLUMN_ENUM_ENTRY_

namespace tables {
const TableDef& Predictions();        // player_prop_predictions
const TableDef& Actuals();            // player_game_summary
const TableDef& Injuries();           // injury_report
const TableDef& Archetypes();         // player_archetypes
const TableDef& Accuracy();           // prediction_accuracy
const TableDef& DailyPerformance();   // system_daily_performance
const TableDef& Summary();            // prediction_performance_summary
const TableDef& GradingRuns();        // grading_runs
const TableDef& PartitionFence();     // partition_fence
const TableDef& PartitionVersions();  // partition_versions
const TableDef& Locks();              // locks (db lock backend)
const TableDef& LockEvents();         // lock_events
const TableDef& DuplicateAudit();     // duplicate_audit
const TableDef& Quarantine();         // remediation_quarantine
const TableDef& Alerts();             // alerts
const TableDef& CircuitBreakers();    // circuit_breakers
const TableDef& CheckResults();       // check_results
const TableDef& Staging();            // prediction_staging
const TableDef& History();            // partition_history
// partition_history without its replaced_rows column (the last): listings read only this.
const TableDef& HistoryEntries();
}  // namespace tables

// Every table above, in dependency order (inputs, outputs, system tables).
const std::vector<const TableDef*>& AllTables();
// nullptr when `name` is not a built-in table.
const TableDef* FindTable(std::string_view name);
// The built-in table whose TableDef::writer is `processor`; nullptr when none.
const TableDef* TableWrittenBy(std::string_view processor);

// A table as a configuration declares it ([tables.NAME], operations.md §3), before checks.
struct TableDeclaration {
  std::string name;
  std::string processor;  // the lock key prefix, breaker and metric label; empty: `name`
  std::string partition_column;
  std::vector<std::string> key;    // the unique key within a partition; NULLs compare equal
  std::vector<ColumnDef> columns;  // in table order; `required` = NOT NULL
  bool introspect = false;         // columns = "introspect": read them from the database
  bool manage_schema = true;
  std::optional<WinnerRule> keep;  // dedupe's rule: its time_column, earliest or latest
};

// A database column as the store reads it back (introspection, migration checks).
struct ExistingColumn {
  std::string name;
  std::string sql_type;  // as the database names it: "TEXT", "double precision", ...
  bool not_null = false;
};
// The column type propgrade reads `sql_type` as (SQLite affinities, PostgreSQL types);
// InvalidArgument naming the type when it has none (bytea, json, ...).
StatusOr<ColumnType> ColumnTypeOfSql(std::string_view sql_type);
// "text", "integer", "real", "bool", "date", "timestamp" (and "boolean", "int") as a type.
StatusOr<ColumnType> ParseColumnType(std::string_view word);

// The tables of one database: the built-in ones, then those its configuration declares.
// Declared tables are partitioned, keyed (the partition column leads the stored key, so a key
// is unique within its partition), versioned and written by their own processor; their names
// and processors are their own. Immutable; thread-safe.
class Catalogue {
 public:
  // The built-in tables only.
  static std::shared_ptr<const Catalogue> BuiltIn();
  // The built-in tables and `declared`, each checked (InvalidArgument naming the table and the
  // field). A declaration with `introspect` takes its columns from `existing(name)` (NotFound
  // when the database lacks the table).
  using ColumnReader =
      std::function<StatusOr<std::vector<ExistingColumn>>(const std::string& table)>;
  static StatusOr<std::shared_ptr<const Catalogue>> Build(
      const std::vector<TableDeclaration>& declared, const ColumnReader& existing);

  const std::vector<const TableDef*>& tables() const { return all_; }
  const std::vector<const TableDef*>& declared() const { return declared_; }
  const TableDef* Find(std::string_view name) const;            // nullptr when absent
  const TableDef* WrittenBy(std::string_view processor) const;  // nullptr when none

 private:
  std::vector<std::shared_ptr<const TableDef>> owned_;
  std::vector<const TableDef*> all_, declared_;
};
// One declared table from its declaration and its columns (exposed for tests).
StatusOr<TableDef> DeclaredTable(const TableDeclaration& d, std::vector<ColumnDef> columns);

// The inverse of JsonObject (common/value_text.h) for a row of `table` (its columns by name;
// an absent key is NULL), as remediation_quarantine.row_json holds it. InvalidArgument when a
// value does not fit its column.
StatusOr<Row> RowFromJsonObject(const TableDef& table, std::string_view json);

}  // namespace propgrade
