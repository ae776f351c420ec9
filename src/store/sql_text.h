// SQL text built from the table catalogue, shared by the store dialects: quoted identifiers,
// column lists and the business-key expressions (NULL key parts compare equal). Only
// identifiers from the catalogue go into SQL text; every value is a bound parameter.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "schema/schema.h"

namespace propgrade::sql {

enum class Dialect { kSqlite, kPostgres };

std::string Q(std::string_view identifier);  // "identifier"
std::string ColumnList(const TableDef& t);    // "a", "b", ...
// The key expression list; a nullable key column maps NULL to a value no real value equals
// (SQLite: an empty BLOB; PostgreSQL: 'NaN' for reals, which imports never admit).
std::string KeyExprList(const TableDef& t, Dialect d);
// "?, ?, ?" (SQLite) or "$1, $2, $3" (PostgreSQL, numbered from `first`).
std::string Placeholders(size_t n, Dialect d, size_t first = 1);
// "c = excluded.c" for every column not in the key.
std::string UpdateNonKeyColumns(const TableDef& t);
// The same for the columns of `t` at `columns` (catalogue indexes; empty = every column).
std::string UpdateNonKeyColumns(const TableDef& t, const std::vector<int>& columns);
// The key columns as they stand, for ON CONFLICT (...).
std::string KeyColumnList(const TableDef& t);

// The column type of `t` in `d` (SQLite: INTEGER, REAL, TEXT; PostgreSQL: its own types).
std::string SqlType(ColumnType t, Dialect d);
// The one migration plan of both stores: for every catalogue table (AllTables), CREATE TABLE
// IF NOT EXISTS with its columns, its partition index and its extra indexes, idempotent, so
// one pass brings any older database, or one that lacks a table the catalogue has, up to the
// catalogue. The key indexes are not here: each store ensures them as configured (unique or
// not, StoreOptions::enforce_unique_keys).
std::vector<std::string> CatalogueDdl(Dialect d);
// The same for one table.
std::vector<std::string> TableDdl(const TableDef& t, Dialect d);
// An ALTER TABLE ADD COLUMN per column of `t` that `existing` (a table as the database has it)
// lacks: how a migration brings a built-in table that gained columns up to the catalogue
// (the rows it already holds get NULL in them).
std::vector<std::string> AddedColumnsDdl(const TableDef& t, Dialect d,
                                         const std::vector<ExistingColumn>& existing);
// What a declared table needs in a database that has `existing` columns of it (none: no such
// table): its CREATE TABLE, or an ALTER TABLE ADD COLUMN per declared column it lacks, when
// propgrade manages its schema. FailedPrecondition naming the table and column for a table or
// column the user must add (manage_schema = false), and for a column stored as another type.
StatusOr<std::vector<std::string>> DeclaredTableDdl(const TableDef& t, Dialect d,
                                                    const std::vector<ExistingColumn>& existing);
// The SQL fence, for writers that bring their own SQL (docs/own-tables.md): PostgreSQL's
// function propgrade_fence_advance(table, partition, token[, namespace[, run_id]]), and on
// SQLite the view propgrade_fence whose INSERT trigger does the same. Either, run first inside
// the writer's transaction, takes the partition's place among propgrade's writers (PostgreSQL:
// the advisory locks the store takes), fails the transaction (PostgreSQL: SQLSTATE 40001;
// SQLite: an ABORT) when a greater token already wrote the partition or the token is NULL,
// and otherwise records the token and a new partition version, as the store's own writes do.
// `kSqlFenceName` names the object that exists once the DDL ran.
inline constexpr const char* kSqlFenceName = "propgrade_fence_advance";
std::vector<std::string> SqlFenceDdl(Dialect d);

// Whether a database whose tables are `existing` lacks a catalogue table.
bool LacksACatalogueTable(const std::vector<std::string>& existing);

}  // namespace propgrade::sql
